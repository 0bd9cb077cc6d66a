package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.batch.BatchPlan;
import dev.amalgam.batch.LocalBatch;
import dev.amalgam.device.Device;
import dev.amalgam.device.DeviceChoice;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    description = {
      "Run several named merges from one file, in the form mergekit-multi reads: YAML documents separated by",
      "`---`, each a merge config with a `name`. A model may be an earlier merge's name: that merge runs first and",
      "its output is read. Each merge writes OUT_DIR/NAME. Names, models and cycles are checked before anything",
      "runs. A merge whose output was made from the same config and inputs (a hash recorded in its",
      "mergekit_config.yml) is skipped, so running the batch again finishes what is missing."
    },
    footer = {
      "",
      "Batch file:",
      "  name: ab",
      "  models:",
      "    - {model: qwen2-tiny-a, parameters: {weight: 0.3}}",
      "    - {model: qwen2-tiny-b, parameters: {weight: 0.7}}",
      "  merge_method: linear",
      "  dtype: bfloat16",
      "  ---",
      "  name: ab-then-a",
      "  models:",
      "    - {model: ab, parameters: {weight: 0.5}}         # the merge above",
      "    - {model: qwen2-tiny-a, parameters: {weight: 0.5}}",
      "  merge_method: linear",
      "  dtype: bfloat16",
      "",
      "Examples:",
      "  amalgam batch examples/batch.yml --out-dir /tmp/batch",
      "  amalgam batch examples/batch.yml --out-dir /tmp/batch --dry-run     the stages, and what is up to date"
    })
final class BatchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "BATCH.yml", description = "The batch file (paths relative to its folder).")
  Path file;

  @Option(names = "--out-dir", required = true, paramLabel = "DIR", description = "Where each merge writes DIR/NAME.")
  Path outDir;

  @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
      converter = DeviceChoiceConverter.class, description = "Where to merge (default: ${DEFAULT-VALUE}).")
  DeviceChoice device;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores).")
  Integer threads;

  @Option(names = "--dry-run", description = "Check the batch and print its stages; merge nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print a JSON summary on stdout.")
  boolean json;

  @Override
  public Integer call() {
    if (threads != null && (threads < 1 || threads > 1024)) {
      throw new UserError("--threads must be between 1 and 1024, not " + threads);
    }
    BatchPlan plan = BatchPlan.load(file, outDir);
    PrintWriter err = spec.commandLine().getErr();
    if (dryRun) {
      LocalBatch.check(plan);
      print(plan, plan.merges().stream().map(m -> new LocalBatch.Outcome(m, m.upToDate() ? "up to date" : "to merge",
          0)).toList());
      return ExitCodes.OK;
    }
    if (plan.merges().stream().allMatch(BatchPlan.BatchMerge::upToDate)) {
      print(plan, plan.merges().stream().map(m -> new LocalBatch.Outcome(m, "up to date", 0)).toList());
      return ExitCodes.OK;
    }
    try (Device opened = Device.open(device, new Device.Settings(threads, false), "merging", err::println)) {
      print(plan, LocalBatch.run(plan, opened, err::println));
    }
    return ExitCodes.OK;
  }

  private void print(BatchPlan plan, List<LocalBatch.Outcome> outcomes) {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = new ObjectMapper().createObjectNode().put("batch", plan.file().toString())
          .put("out_dir", plan.outDir().toString()).put("stages", plan.stages());
      ArrayNode merges = root.putArray("merges");
      for (LocalBatch.Outcome outcome : outcomes) {
        ObjectNode merge = merges.addObject().put("name", outcome.merge().name())
            .put("stage", outcome.merge().stage()).put("output", outcome.merge().output().toString())
            .put("status", outcome.status()).put("seconds", outcome.seconds());
        outcome.merge().needs().forEach(merge.putArray("needs")::add);
      }
      out.println(root.toPrettyString());
      return;
    }
    for (int stage = 0; stage < plan.stages(); stage++) {
      out.println("stage " + stage + ":");
      for (LocalBatch.Outcome outcome : outcomes) {
        if (outcome.merge().stage() == stage) {
          out.println(String.format(Locale.ROOT, "  %-20s %-10s %s%s", outcome.merge().name(), outcome.status(),
              outcome.merge().output(), outcome.merge().needs().isEmpty() ? ""
                  : "  (reads " + String.join(", ", outcome.merge().needs()) + ")"));
        }
      }
    }
  }
}
