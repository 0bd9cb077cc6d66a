package dev.amalgam.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.bench.SweepBenchmark;
import dev.amalgam.device.Device;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Time a sweep's per-point overhead (everything but the evaluation: merging the point into the weights of the",
      "model the sweep already has) against merging the point to disk and loading the result, in the same run, on",
      "the seed model's shape (random checkpoints written once into --work-dir), beside a read of the inputs from",
      "the page cache. The first point's merge into new weights and model build, paid once per sweep, is timed",
      "apart. Prints JSON."
    },
    footer = {"", "Examples:", "  amalgam bench sweep --device cpu", "  amalgam bench sweep --points 5"})
final class BenchSweepCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin
  BenchCheckpointOptions checkpoints;

  @Option(names = "--points", defaultValue = "3", paramLabel = "N", description = "Points timed (default: ${DEFAULT-VALUE}).")
  int points;

  @Mixin
  GenerationDeviceOptions device;

  @Override
  public Integer call() throws Exception {
    Path modelConfig = checkpoints.modelConfig();
    if (points < 1 || points > 100) {
      throw new UserError("--points must be from 1 to 100, not " + points);
    }
    try (Device opened = device.open(spec.commandLine().getErr()::println)) {
      ObjectNode result = SweepBenchmark.run(checkpoints.workDir, modelConfig, opened, points, spec.commandLine().getErr()::println);
      spec.commandLine().getOut().println(result.toPrettyString());
      spec.commandLine().getErr().println(String.format(Locale.ROOT,
          "per point: %.3f s merged in place, %.2f s to disk and back (%.1fx less), %.2f s to read the inputs from the "
              + "page cache", result.get("mean_in_place_s").asDouble(), result.get("mean_merge_to_disk_and_load_s").asDouble(),
          result.get("less_overhead_than_disk").asDouble(), result.get("mean_read_inputs_from_page_cache_s").asDouble()));
    }
    return ExitCodes.OK;
  }
}
