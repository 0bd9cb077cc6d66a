package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.eval.Answers;
import dev.amalgam.eval.Choice;
import dev.amalgam.eval.EvalData;
import dev.amalgam.eval.ExactMatch;
import dev.amalgam.eval.Perplexity;
import dev.amalgam.generate.LanguageModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A sweep's evaluations, their data read and checked once before any point merges: {@code perplexity: {file,
 * context, stride}}, {@code exact_match: {file, answer, format, chat, system, max_new_tokens, batch_size}},
 * {@code choice: {file}}, as {@code amalgam eval} runs them. Each point's metrics are flat names such as
 * {@code exact_match.accuracy} with {@code .low95} and {@code .high95} beside the rates.
 */
final class Evaluations {
  private final List<String> texts;
  private final int context;
  private final int stride;
  private final List<EvalData.Question> questions;
  private final Answers answers;
  private final Pattern format;
  private final ExactMatch.Options options;
  private final List<EvalData.ChoiceQuestion> choices;

  private Evaluations(List<String> texts, int context, int stride, List<EvalData.Question> questions,
      Answers answers, Pattern format, ExactMatch.Options options, List<EvalData.ChoiceQuestion> choices) {
    this.texts = texts;
    this.context = context;
    this.stride = stride;
    this.questions = questions;
    this.answers = answers;
    this.format = format;
    this.options = options;
    this.choices = choices;
  }

  static Evaluations load(SweepSpec spec) {
    Path folder = spec.file().toAbsolutePath().getParent();
    JsonNode p = spec.evaluations().path("perplexity");
    JsonNode q = spec.evaluations().path("exact_match");
    JsonNode c = spec.evaluations().path("choice");
    check(p, Set.of("file", "context", "stride"), "perplexity", spec.file());
    check(q, Set.of("file", "answer", "format", "chat", "system", "max_new_tokens", "batch_size"), "exact_match",
        spec.file());
    check(c, Set.of("file"), "choice", spec.file());
    int context = p.path("context").asInt(1024);
    int stride = p.path("stride").asInt(512);
    if (!p.isMissingNode() && (context < 2 || stride < 1 || stride > context)) {
      throw new UserError(spec.file() + ": perplexity needs context >= 2 and stride from 1 to context");
    }
    Pattern format;
    try {
      format = q.hasNonNull("format") ? Pattern.compile(q.get("format").asText(), Pattern.DOTALL) : null;
    } catch (PatternSyntaxException e) {
      throw new UserError(spec.file() + ": exact_match format is not a valid regex: " + e.getDescription());
    }
    int maxNewTokens = q.path("max_new_tokens").asInt(64);
    int batchSize = q.path("batch_size").asInt(8);
    if (maxNewTokens < 1 || batchSize < 1) {
      throw new UserError(spec.file() + ": exact_match needs max_new_tokens and batch_size of 1 or more");
    }
    return new Evaluations(
        p.isMissingNode() ? null : EvalData.texts(folder.resolve(file(p, "perplexity", spec.file()))),
        context, stride,
        q.isMissingNode() ? null : EvalData.questions(folder.resolve(file(q, "exact_match", spec.file()))),
        Answers.of(q.path("answer").asText("last_number")), format,
        new ExactMatch.Options(q.path("chat").asBoolean(false), q.hasNonNull("system") ? q.get("system").asText() : null,
            maxNewTokens, batchSize),
        c.isMissingNode() ? null : EvalData.choices(folder.resolve(file(c, "choice", spec.file()))));
  }

  /** Every metric of the model, by flat name, with the time each evaluation took. */
  ObjectNode run(LanguageModel model) {
    ObjectNode metrics = new ObjectMapper().createObjectNode();
    if (texts != null) {
      Perplexity.Result r = Perplexity.measure(model, texts, context, stride);
      metrics.put("perplexity", r.perplexity()).put("perplexity.mean_nll", r.meanNll())
          .put("perplexity.seconds", r.seconds());
    }
    if (questions != null) {
      ExactMatch.Result r = ExactMatch.measure(model, questions, answers, format, options);
      rate(metrics, "exact_match.accuracy", r.accuracy());
      if (r.format() != null) {
        rate(metrics, "exact_match.format", r.format());
      }
      metrics.put("exact_match.seconds", r.seconds());
    }
    if (choices != null) {
      Choice.Result r = Choice.measure(model, choices);
      rate(metrics, "choice.accuracy", r.accuracy());
      metrics.put("choice.seconds", r.seconds());
    }
    return metrics;
  }

  private static void rate(ObjectNode metrics, String name, ExactMatch.Rate rate) {
    metrics.put(name, rate.value()).put(name + ".low95", rate.low()).put(name + ".high95", rate.high());
  }

  private static void check(JsonNode node, Set<String> keys, String name, Path file) {
    if (node.isMissingNode()) {
      return;
    }
    if (!node.isObject()) {
      throw new UserError(file + ": evaluation " + name + " must be a mapping such as {file: ...}");
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!keys.contains(key)) {
        throw new UserError(file + ": unknown key `" + key + "` in " + name + " (known: " + String.join(", ", keys)
            + ")");
      }
    });
  }

  private static String file(JsonNode node, String name, Path file) {
    if (!node.path("file").isTextual()) {
      throw new UserError(file + ": evaluation " + name + " needs a `file`");
    }
    return node.get("file").asText();
  }
}
