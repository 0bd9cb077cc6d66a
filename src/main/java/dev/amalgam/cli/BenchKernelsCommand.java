package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.bench.KernelBenchmark;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.device.Device;
import dev.amalgam.model.ModelSpec;
import java.io.PrintWriter;
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
    name = "kernels",
    mixinStandardHelpOptions = true,
    description = {
      "Time each op of a decode step and of a prefill on its own (on the GPU: each kernel), at a model's shapes",
      "with random weights; no checkpoint is read. Ops that stream weights or the KV cache are held against the",
      "copy bandwidth, the prefill's matmuls and attention against a large matmul, both measured in the same run.",
      "Each op runs --calls times in one recorded step (a CUDA graph on the GPU), cycling through enough copies",
      "of its weights that no call finds them in the cache."
    },
    footer = {
      "",
      "Example (the 1.5B shape of the seed model):",
      "  amalgam bench kernels --config examples/deepseek-r1-distill-qwen-1.5b.config.json --device cuda --json"
    })
final class BenchKernelsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", defaultValue = "examples/deepseek-r1-distill-qwen-1.5b.config.json",
      paramLabel = "CONFIG.json", description = "The model shape, an HF config.json (default: ${DEFAULT-VALUE}).")
  Path config;

  @Option(names = "--batch", split = ",", defaultValue = "1,8,32", paramLabel = "B[,B...]",
      description = "Decode rows (sequences per step) to time (default: ${DEFAULT-VALUE}).")
  List<Integer> batches;

  @Option(names = "--context", defaultValue = "512", paramLabel = "N",
      description = "Positions each decode row attends to (default: ${DEFAULT-VALUE}).")
  int context;

  @Option(names = "--prefill", defaultValue = "2048", paramLabel = "N",
      description = "Prompt tokens of the timed prefill, 0 for none (default: ${DEFAULT-VALUE}).")
  int prefillRows;

  @Option(names = "--calls", defaultValue = "20", paramLabel = "N",
      description = "Calls per timing, best of three timings (default: ${DEFAULT-VALUE}).")
  int calls;

  @Mixin
  GenerationDeviceOptions device;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the random data (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--bandwidth-buffer", defaultValue = "256M", paramLabel = "SIZE", converter = ByteSize.class,
      description = "Size of the buffer copied to measure bandwidth (default: ${DEFAULT-VALUE}).")
  long bandwidthBuffer;

  @Option(names = "--json", description = "Print only the JSON result on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    KernelBenchmark.Options options = new KernelBenchmark.Options(ModelSpec.from(ModelConfig.read(config)), batches,
        context, prefillRows, calls, seed, bandwidthBuffer);
    PrintWriter err = spec.commandLine().getErr();
    ObjectNode result;
    try (Device opened = device.open(err::println)) {
      result = new KernelBenchmark(opened.backend(), options, err::println).run();
    }
    result.put("config", config.toString());
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(result));
    } else {
      printTable(result, out);
    }
    return ExitCodes.OK;
  }

  private static void printTable(JsonNode r, PrintWriter out) {
    JsonNode ceilings = r.get("ceilings");
    out.printf(Locale.ROOT, "%s, shape of %s: copy bandwidth %.1f GB/s%s%n", r.get("device").asText(),
        r.get("config").asText(), ceilings.get("memory_bandwidth_gb_s").asDouble(),
        ceilings.has("matmul_tflop_s") ? String.format(Locale.ROOT, ", matmul %.2f TFLOP/s (%s)",
            ceilings.get("matmul_tflop_s").asDouble(), ceilings.get("matmul_shape").asText()) : "");
    out.printf("%-8s %5s %-15s %10s %9s %7s %9s %7s%n", "phase", "rows", "op", "us", "GB/s", "of bw", "TFLOP/s",
        "of mm");
    for (JsonNode op : r.get("ops")) {
      out.printf(Locale.ROOT, "%-8s %5d %-15s %10.1f %9s %7s %9s %7s%n", op.get("phase").asText(),
          op.get("rows").asInt(), op.get("op").asText(), op.get("us").asDouble(), number(op, "gb_s", "%.1f"),
          percent(op, "of_bandwidth"), number(op, "tflop_s", "%.3f"), percent(op, "of_matmul"));
    }
  }

  private static String number(JsonNode op, String field, String format) {
    return op.has(field) ? String.format(Locale.ROOT, format, op.get(field).asDouble()) : "-";
  }

  private static String percent(JsonNode op, String field) {
    return op.has(field) ? String.format(Locale.ROOT, "%.0f%%", 100 * op.get(field).asDouble()) : "-";
  }
}
