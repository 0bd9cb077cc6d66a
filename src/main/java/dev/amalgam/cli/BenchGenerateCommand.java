package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.bench.GenerationBenchmark;
import dev.amalgam.device.Device;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Time generation on random prompt ids (seeded): prefill tokens/s and time to first token, then decode",
      "tokens/s for each batch size, counting all sequences together. Decoding is greedy and ignores EOS, so",
      "every sequence generates exactly --new-tokens. The same run measures the device's copy bandwidth",
      "(or takes --memory-bandwidth) and reports the batch-1 decode ceiling it implies: a decode step must read",
      "every weight once, so it cannot beat bandwidth / weight bytes."
    },
    footer = {
      "",
      "Example (write the 1.5B checkpoint first with `amalgam random-model`):",
      "  amalgam bench generate --model /tmp/r1 --prompt-len 512 --new-tokens 256 --batch 1,8,32 --json"
    })
final class BenchGenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "A model folder (config.json and safetensors; no tokenizer needed).")
  Path model;

  @Option(names = "--prompt-len", defaultValue = "512", paramLabel = "N", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int promptLength;

  @Option(names = "--new-tokens", defaultValue = "256", paramLabel = "N", description = "Tokens generated per sequence (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(names = "--batch", split = ",", defaultValue = "1,8,32", paramLabel = "B[,B...]",
      description = "Batch sizes to time (default: ${DEFAULT-VALUE}).")
  List<Integer> batches;

  @Mixin
  GenerationDeviceOptions device;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the prompt ids (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--memory-bandwidth", paramLabel = "GB/s",
      description = "The device's memory bandwidth for the ceiling, instead of measuring a copy.")
  Double statedBandwidth;

  @Option(names = "--bandwidth-buffer", defaultValue = "256M", paramLabel = "SIZE", converter = ByteSize.class,
      description = "Size of the buffer copied to measure bandwidth (default: ${DEFAULT-VALUE}).")
  long bandwidthBuffer;

  @Option(names = "--json", description = "Print only the JSON result on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(model.resolve("config.json"))) {
      throw new UserError("model " + model + " is not a model folder with config.json (write one with `amalgam random-model`)");
    }
    GenerationBenchmark.Options options = new GenerationBenchmark.Options(model, promptLength, newTokens, batches, seed,
        statedBandwidth, bandwidthBuffer);
    PrintWriter err = spec.commandLine().getErr();
    ObjectNode result;
    try (Device opened = device.open(err::println)) {
      result = new GenerationBenchmark(opened.backend(), options, err::println).run();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(result));
    } else {
      printTable(result, out);
    }
    return ExitCodes.OK;
  }

  private static void printTable(JsonNode r, PrintWriter out) {
    out.printf(Locale.ROOT, "%s on %s: prompt %d tokens, %d new tokens, weights %.3f GB per decode step (%s)%n",
        r.get("model").asText(), r.get("device").asText(), r.get("prompt_len").asInt(), r.get("new_tokens").asInt(),
        r.get("weight_bytes_per_step").asLong() / 1e9, r.get("weight_dtype").asText());
    JsonNode bw = r.get("memory_bandwidth");
    JsonNode ceiling = r.get("batch1_ceiling");
    out.printf(Locale.ROOT, "memory bandwidth %.1f GB/s (%s): batch-1 ceiling %.1f tokens/s%s%n",
        bw.get("gb_per_s").asDouble(), bw.get("source").asText(), ceiling.get("decode_tok_s").asDouble(),
        ceiling.has("ratio") ? String.format(Locale.ROOT, ", batch 1 reaches %.1f%% of it",
            100 * ceiling.get("ratio").asDouble()) : "");
    out.printf("%6s %12s %10s %14s %12s %12s %12s%n", "batch", "prefill t/s", "ttft ms", "batch ttft ms",
        "decode t/s", "step ms", "weight GB/s");
    for (JsonNode run : r.get("runs")) {
      out.printf(Locale.ROOT, "%6d %12.1f %10.1f %14.1f %12.1f %12.2f %12.2f%n", run.get("batch").asInt(),
          run.get("prefill_tok_s").asDouble(), run.get("ttft_ms").asDouble(), run.get("batch_ttft_ms").asDouble(),
          run.get("decode_tok_s").asDouble(), run.get("decode_step_ms").asDouble(),
          run.get("decode_weight_gb_s").asDouble());
    }
  }
}
