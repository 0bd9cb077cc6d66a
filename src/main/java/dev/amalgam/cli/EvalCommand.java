package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.device.Device;
import dev.amalgam.eval.Answers;
import dev.amalgam.eval.Choice;
import dev.amalgam.eval.EvalData;
import dev.amalgam.eval.ExactMatch;
import dev.amalgam.eval.Perplexity;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.ModelSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate a model, or a merge config merged in memory (never written to disk): perplexity over texts, and",
      "exact-match accuracy on questions (with the fraction of answers in a wanted format), and multiple-choice",
      "accuracy by log-likelihood, each with its time.",
      "Data files are checked whole before the model loads; a bad line is an error naming the file and line."
    },
    footer = {
      "",
      "Data:",
      "  --perplexity FILE   a text file (one text), or JSONL with {\"text\": ...} per line",
      "  --questions FILE    JSONL with {\"prompt\": ..., \"answer\": ...} per line (answer a string or number)",
      "  --choices FILE      JSONL with {\"prompt\": ..., \"choices\": [...], \"answer\": INDEX or text} per line",
      "",
      "Examples:",
      "  amalgam eval examples/qwen2-tiny-b --questions examples/eval/sums.jsonl",
      "  amalgam eval examples/linear.yml --perplexity examples/eval/prose.txt --json",
      "  amalgam eval MODEL --questions math.jsonl --chat --answer boxed --format '</think>.*\\\\boxed\\{' --json",
      "",
      "Accuracy and format are reported with 95% Wilson intervals. Exit status: 0 ok, 2 bad usage or data, 1 runtime",
      "failure."
    })
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "A model folder, or a merge config (.yml).")
  Path model;

  @Option(names = "--perplexity", paramLabel = "FILE", description = "Texts to measure perplexity on.")
  Path perplexity;

  @Option(names = "--context", defaultValue = "1024", paramLabel = "N",
      description = "Perplexity window in tokens (default: ${DEFAULT-VALUE}).")
  int context;

  @Option(names = "--stride", defaultValue = "512", paramLabel = "N",
      description = "Tokens between windows; each window scores only tokens the last did not (default: ${DEFAULT-VALUE}).")
  int stride;

  @Option(names = "--questions", paramLabel = "FILE.jsonl", description = "Questions for exact-match accuracy.")
  Path questions;

  @Option(names = "--choices", paramLabel = "FILE.jsonl",
      description = "Multiple-choice questions, scored by the log-likelihood of each option after the prompt.")
  Path choices;

  @Option(names = "--answer", defaultValue = "last_number", paramLabel = "RULE",
      description = "How to take the answer from a completion: last_number, boxed, or regex:PATTERN (its first group) "
          + "(default: ${DEFAULT-VALUE}).")
  String answer;

  @Option(names = "--format", paramLabel = "REGEX",
      description = "Also report the fraction of completions in which this regex matches.")
  String format;

  @Option(names = "--chat", description = "Ask through the model's chat template (with --system, if given).")
  boolean chat;

  @Option(names = "--system", paramLabel = "TEXT", description = "System prompt for --chat.")
  String system;

  @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N",
      description = "Longest completion (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N",
      description = "Questions generated together (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--json", description = "Print the results as one JSON object.")
  boolean json;

  @Mixin
  GenerationDeviceOptions device;

  @Override
  public Integer call() {
    if (perplexity == null && questions == null && choices == null) {
      throw new UserError("nothing to evaluate: give --perplexity FILE, --questions FILE.jsonl or --choices FILE.jsonl");
    }
    if (context < 2 || stride < 1 || stride > context) {
      throw new UserError("--context must be at least 2 and --stride between 1 and --context, not " + context + " and "
          + stride);
    }
    if (maxNewTokens < 1 || batchSize < 1) {
      throw new UserError("--max-new-tokens and --batch-size must be at least 1");
    }
    if (system != null && !chat) {
      throw new UserError("--system needs --chat");
    }
    List<String> texts = perplexity == null ? null : EvalData.texts(perplexity);
    List<EvalData.Question> asked = questions == null ? null : EvalData.questions(questions);
    List<EvalData.ChoiceQuestion> multipleChoice = choices == null ? null : EvalData.choices(choices);
    Answers answers = Answers.of(answer);
    Pattern formatPattern = formatPattern();
    ObjectNode report = new ObjectMapper().createObjectNode();
    PrintWriter out = spec.commandLine().getOut();
    try (Device opened = device.open(spec.commandLine().getErr()::println);
        LanguageModel lm = ModelSource.open(opened, model, null, spec.commandLine().getErr()::println)) {
      report.put("model", model.toString()).put("device", lm.device());
      if (texts != null) {
        Perplexity.Result r = Perplexity.measure(lm, texts, context, stride);
        report.putObject("perplexity").put("file", perplexity.toString()).put("tokens", r.tokens())
            .put("mean_nll", r.meanNll()).put("perplexity", r.perplexity()).put("seconds", r.seconds());
        if (!json) {
          out.printf(Locale.ROOT, "perplexity %.4f (mean NLL %.5f over %d tokens) in %.2f s%n", r.perplexity(),
              r.meanNll(), r.tokens(), r.seconds());
        }
      }
      if (asked != null) {
        ExactMatch.Result r = ExactMatch.measure(lm, asked, answers, formatPattern,
            new ExactMatch.Options(chat, system, maxNewTokens, batchSize));
        ObjectNode node = report.putObject("exact_match").put("file", questions.toString())
            .put("questions", asked.size()).put("generated_tokens", r.generatedTokens()).put("seconds", r.seconds());
        rate(node.putObject("accuracy"), r.accuracy());
        if (r.format() != null) {
          rate(node.putObject("format"), r.format());
        }
        if (!json) {
          out.printf(Locale.ROOT, "exact match %s over %d questions%s in %.2f s%n", text(r.accuracy()), asked.size(),
              r.format() == null ? "" : "; format " + text(r.format()), r.seconds());
        }
      }
      if (multipleChoice != null) {
        Choice.Result r = Choice.measure(lm, multipleChoice);
        ObjectNode node = report.putObject("choice").put("file", choices.toString())
            .put("questions", multipleChoice.size()).put("seconds", r.seconds());
        rate(node.putObject("accuracy"), r.accuracy());
        if (!json) {
          out.printf(Locale.ROOT, "multiple choice %s over %d questions in %.2f s%n", text(r.accuracy()),
              multipleChoice.size(), r.seconds());
        }
      }
    }
    if (json) {
      out.println(report);
    }
    return ExitCodes.OK;
  }

  private Pattern formatPattern() {
    if (format == null) {
      return null;
    }
    try {
      return Pattern.compile(format, Pattern.DOTALL);
    } catch (PatternSyntaxException e) {
      throw new UserError("--format is not a valid regex: " + e.getDescription());
    }
  }

  private static void rate(ObjectNode node, ExactMatch.Rate rate) {
    node.put("value", rate.value()).put("hits", rate.hits()).put("low95", rate.low()).put("high95", rate.high());
  }

  private static String text(ExactMatch.Rate rate) {
    return String.format(Locale.ROOT, "%.3f [%.3f, %.3f] (%d/%d)", rate.value(), rate.low(), rate.high(), rate.hits(),
        rate.n());
  }
}
