package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.bench.FirstTokenBenchmark;
import dev.amalgam.device.Device;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "first-token",
    mixinStandardHelpOptions = true,
    description = {
      "Time `generate CONFIG.yml` up to its first token: plan, merge in memory on the device, build the model,",
      "prefill a random prompt, sample. Held against reading the merge's inputs once, in the same run, both",
      "with the page cache dropped first where the OS allows it (root on Linux)."
    },
    footer = {"", "Example (after `amalgam bench merge` wrote its checkpoints):",
        "  amalgam bench first-token /tmp/amalgam-bench/linear.yml --device cuda --json"})
final class BenchFirstTokenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG.yml", description = "A mergekit config.")
  Path config;

  @Option(names = "--prompt-len", defaultValue = "64", paramLabel = "N", description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int promptLength;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed of the prompt ids (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin
  GenerationDeviceOptions device;

  @Option(names = "--json", description = "Print only the JSON result on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    ObjectNode result;
    try (Device opened = device.open(err::println)) {
      result = FirstTokenBenchmark.run(opened, config, promptLength, seed, err::println);
    }
    ObjectMapper mapper = new ObjectMapper();
    spec.commandLine().getOut().println(json ? mapper.writeValueAsString(result)
        : mapper.writerWithDefaultPrettyPrinter().writeValueAsString(result));
    return ExitCodes.OK;
  }
}
