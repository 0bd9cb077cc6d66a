package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.device.Device;
import dev.amalgam.generate.BatchResult;
import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.ModelSource;
import dev.amalgam.generate.PromptFile;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.io.AtomicFile;
import dev.amalgam.merge.Merger;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Generate text from a model folder, or from a merge config merged in memory first.",
      "Models: Qwen2, Llama, Mistral. A merge config is merged on the chosen device and never written to disk",
      "(unless --save asks for it); on the GPU the merged weights never leave the device.",
      "",
      "The prompt is taken as is: no special tokens are added. Text streams to stdout as it is generated;",
      "statistics go to stderr. With --temperature 0 (the default) decoding is greedy.",
      "",
      "With --prompts FILE.jsonl, every line is a prompt: a JSON string, or an object",
      "  {\"prompt\": \"...\", \"id\": any, \"chat\": bool, \"system\": \"...\", \"max_new_tokens\": n, \"seed\": n}",
      "where only prompt is required and the rest override the command line for that line. Up to --batch-size",
      "sequences are decoded together, one KV-cache slot each; a finished sequence's slot takes the next prompt.",
      "Results are JSON Lines in input order: {id, text, tokens, prompt_tokens, finish_reason}; id defaults to",
      "the line number. A line without a seed samples with --seed plus its index among the prompts (from 0).",
      "Greedy output does not depend on the batch a prompt shares."
    },
    footer = {
      "",
      "Examples:",
      "  amalgam generate examples/qwen2-tiny-a --prompt 'The smith kept'",
      "  amalgam generate examples/linear.yml --prompt 'The smith kept' --max-new-tokens 48",
      "  amalgam generate examples/linear.yml --prompt 'The smith kept' --save /tmp/merged",
      "  amalgam generate examples/qwen2-tiny-a --chat --system 'Be brief.' --prompt 'How much tin?'",
      "  echo '12 + 7 =' | amalgam generate examples/qwen2-tiny-b --max-new-tokens 16 --json",
      "  amalgam generate MODEL --prompt-file p.txt --temperature 0.7 --top-p 0.9 --seed 1 --stop '\\n\\n'",
      "  amalgam generate examples/linear.yml --prompts prompts.jsonl --batch-size 32 --output results.jsonl",
      "",
      "Exit status: 0 ok, 2 bad usage, model or prompt, 1 runtime failure."
    })
final class GenerateCommand implements Callable<Integer> {
  /** A prompt beyond this is beyond any context window: a 131072-token window holds under 1 MiB of text. */
  private static final long MAX_PROMPT_BYTES = 16L << 20;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = {
      "A model folder (config.json, safetensors, tokenizer.json),",
      "or a merge config (.yml/.yaml) to merge in memory first."})
  Path model;

  @Option(names = "--save", paramLabel = "OUT_DIR",
      description = "With a merge config: also write the merge to OUT_DIR, exactly as `amalgam merge` would.")
  Path save;

  @Option(names = "--overwrite", description = "With --save: replace OUT_DIR if it exists and holds only model files.")
  boolean overwrite;

  @ArgGroup(exclusive = true)
  PromptSource prompt;

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt (default: read stdin).")
    String text;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "Read the prompt from a UTF-8 file.")
    Path file;

    @Option(names = "--prompts", paramLabel = "FILE.jsonl", description = "Generate for every line of a JSON Lines file.")
    Path batch;
  }

  @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N",
      description = "With --prompts: sequences decoded together (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--output", paramLabel = "FILE.jsonl",
      description = "With --prompts: write the results here (atomically, replacing FILE) instead of stdout.")
  Path output;

  @Option(names = "--chat", description = "Wrap the prompt as a user message in the model's chat template.")
  boolean chat;

  @Option(names = "--system", paramLabel = "TEXT", description = "With --chat: a system message before the user's.")
  String system;

  @Option(names = "--max-new-tokens", defaultValue = "256", paramLabel = "N",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
      description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
  float temperature;

  @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Keep the K most likely tokens; 0 keeps all.")
  int topK;

  @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "Nucleus sampling mass; 1 keeps all.")
  float topP;

  @Option(names = "--min-p", defaultValue = "0", paramLabel = "P",
      description = "Drop tokens below P times the top probability; 0 keeps all.")
  float minP;

  @Option(names = "--repetition-penalty", defaultValue = "1", paramLabel = "R",
      description = "HF-style penalty on tokens already seen; 1 is none.")
  float repetitionPenalty;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Random seed: same seed, same tokens.")
  long seed;

  @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the text contains TEXT (repeatable); not printed.")
  List<String> stops = new ArrayList<>();

  @Option(names = "--max-context", defaultValue = "0", paramLabel = "N",
      description = "Prompt plus generated tokens at most (default: min(model limit, 4096)).")
  int maxContext;

  @Mixin
  GenerationDeviceOptions device;

  @Option(names = "--json", description = "Print one JSON object (text, tokens, statistics) instead of streaming.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if (system != null && !chat) {
      throw new UserError("--system needs --chat");
    }
    GenerationSettings settings = new GenerationSettings(maxNewTokens,
        new SamplingParams(temperature, topK, topP, minP, repetitionPenalty), seed, stops, maxContext);
    if (prompt != null && prompt.batch != null) {
      return generateBatch(settings);
    }
    if (output != null) {
      throw new UserError("--output needs --prompts; a single prompt's text goes to stdout");
    }
    String promptText = readPrompt();
    PrintWriter out = spec.commandLine().getOut();
    try (Device opened = device.open(spec.commandLine().getErr()::println);
        LanguageModel model = openModel(opened)) {
      int[] ids = model.encode(chat ? model.chatPrompt(system, promptText) : promptText);
      GenerationResult result = model.generate(ids, settings, json ? TokenListener.NONE : streamingTo(out));
      if (json) {
        out.println(summary(result, model.device()));
      } else {
        out.println();
        spec.commandLine().getErr().printf(Locale.ROOT,
            "%d prompt tokens, %d generated (%s), first token after %.1f ms, %.1f tokens/s on %s%n",
            result.promptTokens(), result.tokens().length, result.finishReason().name().toLowerCase(Locale.ROOT),
            result.ttftMillis(), result.tokensPerSecond(), model.device());
      }
    }
    return ExitCodes.OK;
  }

  private int generateBatch(GenerationSettings settings) {
    if (json) {
      throw new UserError("--json is for a single prompt; --prompts always writes JSON Lines");
    }
    if (batchSize < 1) {
      throw new UserError("--batch-size must be at least 1, got " + batchSize);
    }
    List<PromptFile.Line> lines = PromptFile.read(prompt.batch);
    try (Device opened = device.open(spec.commandLine().getErr()::println);
        LanguageModel model = openModel(opened)) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i = 0; i < lines.size(); i++) {
        requests.add(lines.get(i).toRequest(model, settings, i, chat, system));
      }
      BatchResult result;
      if (output == null) {
        result = generateInto(model, requests, lines, spec.commandLine().getOut());
      } else {
        try (AtomicFile file = AtomicFile.create(output)) {
          result = generateInto(model, requests, lines, file.writer());
          file.commit();
        }
      }
      spec.commandLine().getErr().printf(Locale.ROOT,
          "%d prompts (%d tokens), %d generated, batch size %d: prefill %.1f tokens/s, decode %.1f tokens/s "
              + "(all sequences together) on %s%n",
          lines.size(), result.prefillTokens(), result.results().stream().mapToInt(r -> r.tokens().length).sum(),
          batchSize, result.prefillTokensPerSecond(), result.decodeTokensPerSecond(), model.device());
    }
    return ExitCodes.OK;
  }

  private BatchResult generateInto(LanguageModel model, List<GenerationRequest> requests, List<PromptFile.Line> lines,
      Writer out) {
    InOrderLines ordered = new InOrderLines(out);
    ObjectMapper mapper = new ObjectMapper();
    return model.generateAll(requests, batchSize, (result, i) -> {
      ObjectNode node = mapper.createObjectNode();
      node.set("id", lines.get(i).id());
      node.put("text", result.text());
      node.putPOJO("tokens", result.tokens());
      node.put("prompt_tokens", result.promptTokens());
      node.put("finish_reason", result.finishReason().name().toLowerCase(Locale.ROOT));
      ordered.put(i, node.toString());
    });
  }

  private LanguageModel openModel(Device opened) {
    Merger.OutputOptions saveTo = save == null
        ? null : new Merger.OutputOptions(save, overwrite, MergeCommand.DEFAULT_SHARD_BYTES, true,
            spec.commandLine().getErr()::println);
    return ModelSource.open(opened, model, saveTo, spec.commandLine().getErr()::println);
  }

  private String readPrompt() throws IOException {
    if (prompt != null && prompt.text != null) {
      return prompt.text;
    }
    if (prompt != null && prompt.file != null) {
      return BoundedText.read(prompt.file, MAX_PROMPT_BYTES, "prompt file");
    }
    if (System.console() != null) {
      // Nothing piped in: say why the command seems to wait.
      spec.commandLine().getErr().println("reading the prompt from stdin (end it with Ctrl-D; or pass --prompt TEXT)");
    }
    return BoundedText.read(System.in, MAX_PROMPT_BYTES, "the prompt on standard input");
  }

  private static TokenListener streamingTo(PrintWriter out) {
    return new TokenListener() {
      @Override
      public void onToken(int id, String text) {
        out.print(text);
        out.flush();
      }

      @Override
      public void onEnd(String remainingText) {
        out.print(remainingText);
        out.flush();
      }
    };
  }

  private static ObjectNode summary(GenerationResult result, String device) {
    ObjectNode node = new ObjectMapper().createObjectNode();
    node.put("text", result.text());
    node.putPOJO("tokens", result.tokens());
    node.put("prompt_tokens", result.promptTokens());
    node.put("ttft_ms", result.ttftMillis());
    node.put("tokens_per_s", result.tokensPerSecond());
    node.put("finish_reason", result.finishReason().name().toLowerCase(Locale.ROOT));
    node.put("device", device);
    return node;
  }
}
