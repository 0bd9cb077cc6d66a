package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.device.Device;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import dev.amalgam.sweep.Sweep;
import dev.amalgam.sweep.SweepSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Many merges evaluated from one load: every point of a grid over merge parameters is merged in memory on the",
      "device (nothing written to disk) and evaluated as `amalgam eval` does; results.jsonl grows as each point",
      "finishes (a rerun skips the points it has), then results.csv and a chart per metric (PNG, 95% bands) are",
      "written, and the table printed with the best point."
    },
    footer = {
      "",
      "Sweep file (paths relative to it):",
      "  merge: ../linear.yml                      # the merge config to vary",
      "  axes:",
      "    w: {from: 0, to: 1, step: 0.1}          # or a list [0, 0.3, 0.7, 1]; two axes make a grid",
      "  set:                                      # config paths, set to expressions over the axes",
      "    models.0.parameters.weight: 1 - w",
      "    models.1.parameters.weight: w",
      "  evaluations:",
      "    perplexity: {file: prose.txt, context: 1024, stride: 512}",
      "    exact_match: {file: sums.jsonl, answer: 'regex:^\\s*(-?\\d+)', max_new_tokens: 6}",
      "    choice: {file: choices.jsonl}",
      "  best: exact_match.accuracy                # the metric that picks the best point",
      "",
      "Each point's full config is in results.jsonl (model paths absolute): `amalgam merge` remakes it exactly.",
      "",
      "Examples:",
      "  amalgam sweep examples/sweep/weights.yml",
      "  amalgam sweep examples/sweep/weights.yml --save-best /tmp/best --json"
    })
final class SweepCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SWEEP.yml", description = "The sweep file.")
  Path file;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Results folder (default: NAME-results beside the sweep file).")
  Path out;

  @Option(names = "--save-best", paramLabel = "DIR",
      description = "Also write the best point's merge as an HF folder, atomically, as `amalgam merge` would.")
  Path saveBest;

  @Option(names = "--json", description = "Print the results as one JSON object.")
  boolean json;

  @Mixin
  GenerationDeviceOptions device;

  @Override
  public Integer call() {
    SweepSpec sweep = SweepSpec.load(file);
    Path folder = out != null ? out : file.toAbsolutePath().resolveSibling(
        file.getFileName().toString().replaceFirst("\\.ya?ml$", "") + "-results");
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    try (Device opened = device.open(stderr::println)) {
      Sweep.Outcome outcome = Sweep.run(sweep, folder, opened, stderr::println);
      String metric = sweep.best() != null ? sweep.best() : outcome.metrics().get(0);
      if (!outcome.metrics().contains(metric)) {
        throw new UserError("best: " + metric + " is not a metric of this sweep (" + outcome.metrics() + ")");
      }
      ObjectNode best = Sweep.best(outcome, metric);
      if (saveBest != null && best != null) {
        try (MergePlan plan = MergePlanner.plan(Sweep.parse(sweep, best.get("config").asText()));
            MergeEngine engine = opened.mergeEngine()) {
          Merger.toDisk(plan, engine, new Merger.OutputOptions(saveBest, false, MergeCommand.DEFAULT_SHARD_BYTES,
              true, stderr::println), MergeEngine.MergeProgress.NONE);
        }
      }
      if (json) {
        ObjectNode report = new ObjectMapper().createObjectNode().put("results", folder.toString())
            .put("ran", outcome.ran()).put("skipped", outcome.skipped()).put("best_metric", metric);
        ArrayNode rows = report.putArray("points");
        for (ObjectNode row : outcome.rows()) {
          ObjectNode point = row.deepCopy();
          point.remove("config");
          rows.add(point);
        }
        report.set("best", best == null ? null : best.get("point"));
        stdout.println(report);
      } else {
        printTable(stdout, sweep, outcome);
        stdout.printf(Locale.ROOT, "best by %s: %s; results, CSV and charts in %s (%d points run, %d already there)%n",
            metric, best == null ? "none" : best.get("point"), folder, outcome.ran(), outcome.skipped());
      }
    }
    return ExitCodes.OK;
  }

  private static void printTable(PrintWriter out, SweepSpec sweep, Sweep.Outcome outcome) {
    StringBuilder header = new StringBuilder();
    sweep.axes().forEach(a -> header.append(String.format(Locale.ROOT, "%-8s", a.name())));
    outcome.metrics().forEach(m -> header.append(String.format(Locale.ROOT, "  %22s", m)));
    out.println(header);
    for (ObjectNode row : outcome.rows()) {
      StringBuilder line = new StringBuilder();
      sweep.axes().forEach(a -> line.append(String.format(Locale.ROOT, "%-8.3f", row.get("point").get(a.name())
          .asDouble())));
      outcome.metrics().forEach(m -> line.append(String.format(Locale.ROOT, "  %22.4f",
          row.get("metrics").path(m).asDouble(Double.NaN))));
      out.println(line);
    }
  }
}
