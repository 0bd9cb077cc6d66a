package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.device.PointMerger;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.RecursiveDelete;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The per-point overhead of a sweep (everything but the evaluation): merging a point into the weights of the model
 * the sweep already has ({@link PointMerger#mergeInto}), against the way without amalgam, merging to disk and loading
 * the result, both timed in the same run on the seed model's shape (two random checkpoints, linear at weights 1 − w
 * and w); beside them, a read of the inputs from the page cache, the CPU's target, and the once-per-sweep cost of
 * the first point, which merges into new weights and builds the model.
 */
public final class SweepBenchmark {
  private SweepBenchmark() {}

  public static ObjectNode run(Path workDir, Path modelConfig, Device device, int points, Consumer<String> log)
      throws IOException {
    Files.createDirectories(workDir);
    MergeBenchmark checkpoints = new MergeBenchmark(workDir, modelConfig, log);
    checkpoints.ensureCheckpoint("a", 1);
    checkpoints.ensureCheckpoint("b", 2);
    ObjectNode report = new ObjectMapper().createObjectNode().put("device", device.backend().device());
    ArrayNode rows = report.putArray("points");
    double memory = 0;
    double disk = 0;
    double read = 0;
    Transformer model = null;
    try (PointMerger merger = device.pointMerger(MergeEngine.MergeProgress.NONE)) {
      log.accept("first point (w = 0): merge into new weights and build the model");
      long start = System.nanoTime();
      try (MergePlan plan = MergePlanner.plan(config(workDir, 0));
          WeightSource weights = merger.merge(plan)) {
        model = Transformer.load(device.backend(), plan.outputConfig(), weights);
      }
      report.put("first_point_merge_and_build_s", (System.nanoTime() - start) / 1e9);
      for (int p = 0; p < points; p++) {
        double w = (p + 1.0) / (points + 1);
        MergeConfig config = config(workDir, w);
        List<Path> inputs;
        try (MergePlan plan = MergePlanner.plan(config)) {
          inputs = plan.inputFiles();
        }
        IoFloor.readSeconds(inputs);  // the sweep's inputs stay in the page cache from point to point
        double warmRead = IoFloor.readSeconds(inputs);
        log.accept(String.format(Locale.ROOT, "point w = %.3f: merge into the model's weights", w));
        start = System.nanoTime();
        try (MergePlan plan = MergePlanner.plan(config)) {
          if (!merger.mergeInto(plan, model.weights().byName())) {
            throw new IllegalStateException("a point of the same shape did not merge in place");
          }
        }
        double inPlace = (System.nanoTime() - start) / 1e9;
        log.accept(String.format(Locale.ROOT, "point w = %.3f: merge to disk and load it", w));
        Path out = workDir.resolve("sweep-point");
        start = System.nanoTime();
        try (MergePlan plan = MergePlanner.plan(config); MergeEngine engine = device.mergeEngine()) {
          Merger.toDisk(plan, engine, new Merger.OutputOptions(out, true, 5_000_000_000L, false),
              MergeEngine.MergeProgress.NONE);
        }
        try (ModelDirectory dir = ModelDirectory.open(out);
            Transformer loaded = Transformer.load(device.backend(), dir.config(), WeightSource.of(dir))) {
          loaded.spec();
        }
        double toDisk = (System.nanoTime() - start) / 1e9;
        RecursiveDelete.quietly(out);
        rows.addObject().put("w", w).put("in_place_s", inPlace).put("merge_to_disk_and_load_s", toDisk)
            .put("read_inputs_from_page_cache_s", warmRead);
        memory += inPlace;
        disk += toDisk;
        read += warmRead;
      }
    } finally {
      if (model != null) {
        model.close();
      }
    }
    return report.put("mean_in_place_s", memory / points).put("mean_merge_to_disk_and_load_s", disk / points)
        .put("mean_read_inputs_from_page_cache_s", read / points)
        .put("less_overhead_than_disk", disk / memory).put("ratio_to_page_cache_read", memory / read);
  }

  /** The point at weight {@code w} of model b (1 − w of model a), written beside the checkpoints. */
  private static MergeConfig config(Path workDir, double w) throws IOException {
    Path file = workDir.resolve("sweep-point.yml");
    Files.writeString(file, String.format(Locale.ROOT, "models:\n  - model: a\n    parameters: {weight: %s}\n"
        + "  - model: b\n    parameters: {weight: %s}\nmerge_method: linear\ndtype: bfloat16\n", 1 - w, w));
    return MergeConfig.load(file);
  }
}
