package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.bench.MergeBenchmark;
import dev.amalgam.device.DeviceChoice;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = {
      "Time the seed model's merge (two random checkpoints, 0.3/0.7, normalize, bfloat16) against the",
      "disk's floor (read both inputs + write the output with fdatasync), measured in the same run.",
      "Random checkpoints are written once into --work-dir and reused. Page caches are dropped before",
      "each timing where the OS allows it (root on Linux); the JSON says which.",
      "With --method, a third checkpoint is the base: each method merges the two over it, and is timed",
      "against the linear merge of the same three checkpoints on the same device (ratio_to_linear)."
    },
    footer = {"", "Examples:", "  amalgam bench merge --devices cpu,cuda --json",
        "  amalgam bench merge --devices cpu --method ties --method dare_ties --method sce"})
final class BenchMergeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin
  BenchCheckpointOptions checkpoints;

  @Option(names = "--devices", split = ",", defaultValue = "auto", paramLabel = "cpu,cuda",
      converter = DeviceChoiceConverter.class, description = "Devices to merge on (default: ${DEFAULT-VALUE}).")
  List<DeviceChoice> devices;

  @Option(names = "--method", paramLabel = "NAME", description = "A merge method to time against linear (repeatable; "
      + "comma-separated also works).", split = ",")
  List<String> methods = List.of();

  @Option(names = "--json", description = "Print only the JSON result on stdout.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Path modelConfig = checkpoints.modelConfig();
    ObjectNode result = new MergeBenchmark(checkpoints.workDir, modelConfig, spec.commandLine().getErr()::println).run(devices, methods);
    ObjectMapper mapper = new ObjectMapper();
    spec.commandLine().getOut().println(json ? mapper.writeValueAsString(result)
        : mapper.writerWithDefaultPrettyPrinter().writeValueAsString(result));
    return ExitCodes.OK;
  }
}
