package dev.amalgam.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.device.Device;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.ModelSource;
import dev.amalgam.serve.ServeBenchmark;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Time amalgam serve against the generator called directly, in the same run on the same model: N concurrent",
      "streaming clients of a fixed number of greedy tokens each; throughput and time to first token (p50, p99) on",
      "both sides, and the server's overhead. Prints JSON."
    },
    footer = {"", "Examples:", "  amalgam bench serve --clients 32 --tokens 64",
        "  amalgam bench serve --model examples/linear.yml --device cuda"})
final class BenchServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", defaultValue = "examples/linear.yml", paramLabel = "MODEL_OR_CONFIG",
      description = "A model folder or a merge config (default: ${DEFAULT-VALUE}).")
  Path model;

  @Option(names = "--clients", defaultValue = "32", paramLabel = "N", description = "Concurrent streams "
      + "(default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--tokens", defaultValue = "64", paramLabel = "N", description = "Tokens per request "
      + "(default: ${DEFAULT-VALUE}).")
  int tokens;

  @Mixin
  GenerationDeviceOptions device;

  @Override
  public Integer call() throws Exception {
    if (clients < 1 || clients > 256 || tokens < 1 || tokens > 4096) {
      throw new UserError("--clients must be 1 to 256 and --tokens 1 to 4096");
    }
    try (Device opened = device.open(spec.commandLine().getErr()::println);
        LanguageModel loaded = ModelSource.open(opened, model, null, spec.commandLine().getErr()::println)) {
      ObjectNode report = ServeBenchmark.run(loaded, clients, tokens);
      spec.commandLine().getOut().println(report.toPrettyString());
      spec.commandLine().getErr().println(String.format(Locale.ROOT,
          "%d streams: server %.0f tokens/s against the generator's %.0f (overhead %+.1f%%); first token p50 %.1f ms",
          clients, report.get("server").get("tokens_per_second").asDouble(),
          report.get("generator").get("tokens_per_second").asDouble(),
          100 * report.get("throughput_overhead").asDouble(), report.get("server").get("ttft_p50_ms").asDouble()));
    }
    return ExitCodes.OK;
  }
}
