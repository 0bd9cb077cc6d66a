package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.device.PointMerger;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.model.WeightSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Runs a sweep: every point's config merged in memory on the device (nothing written to disk) and evaluated, each
 * result appended to results.jsonl as it finishes, points already there skipped; then results.csv and a chart per
 * metric. One model serves every point: the first point's merge builds it, and each later point is merged into its
 * weights in place ({@link PointMerger}). The inputs stay mapped between points, so after the first they come from
 * memory (on the GPU, from device memory).
 */
public final class Sweep {
  /** A point's row (its values, config, metrics and timings), in grid order. */
  public record Outcome(List<ObjectNode> rows, int ran, int skipped, List<String> metrics) {}

  /**
   * Share {@code index} of {@code count} of a sweep split over cluster tasks: the points whose grid index is
   * {@code index} modulo {@code count}, their results in their own file, and no table or chart (the run that
   * gathers the shares writes those).
   */
  public record Share(int index, int count) {
    public Share {
      if (count < 1 || index < 0 || index >= count) {
        throw new UserError("a sweep share is I of N with 0 <= I < N, not " + index + " of " + count);
      }
    }

    boolean holds(int point) {
      return point % count == index;
    }
  }

  private Sweep() {}

  public static Outcome run(SweepSpec spec, Path out, Device device, Consumer<String> log) {
    return run(spec, out, device, log, null);
  }

  /** Runs share {@code share} of the sweep, or the whole of it (then the table and charts too) where null. */
  public static Outcome run(SweepSpec spec, Path out, Device device, Consumer<String> log, Share share) {
    Evaluations evaluations = Evaluations.load(spec);
    List<Map<String, Double>> points = spec.points();
    List<String> configs = new ArrayList<>();
    for (Map<String, Double> point : points) {
      configs.add(PointConfig.of(spec, point));
    }
    // Every point plans before any merges, so a config the set paths break fails at once.
    for (int i = 0; i < points.size(); i++) {
      MergePlanner.plan(parse(spec, configs.get(i))).close();
    }
    SweepResults results = new SweepResults(out,
        share == null ? SweepResults.JSONL : "results-share-" + share.index() + ".jsonl");
    String data = dataHash(spec);
    List<ObjectNode> rows = new ArrayList<>();
    int ran = 0;
    long started = System.nanoTime();
    LanguageModel model = null;
    try (PointMerger merger = device.pointMerger(MergeEngine.MergeProgress.NONE)) {
      try (MergePlan first = MergePlanner.plan(parse(spec, configs.get(0)))) {
        log.accept(merger.memoryNeeds(first));
      }
      for (int i = 0; i < points.size(); i++) {
        if (share != null && !share.holds(i)) {
          continue;
        }
        String key = sha256(configs.get(i) + "\n" + data);
        ObjectNode done = results.get(key);
        if (done != null) {
          rows.add(done);
          continue;
        }
        log.accept(String.format(Locale.ROOT, "point %d/%d %s%s", i + 1, points.size(), points.get(i),
            ran == 0 ? "" : eta(started, ran, points.size() - i)));
        ObjectNode row = new ObjectMapper().createObjectNode().put("key", key);
        row.putPOJO("point", points.get(i));
        row.put("config", configs.get(i));
        long mergeStart = System.nanoTime();
        try (MergePlan plan = MergePlanner.plan(parse(spec, configs.get(i)))) {
          // Into the weights of the model the last point left, where its tensors are the same; else a new model.
          boolean inPlace = model != null && merger.mergeInto(plan, model.weights());
          if (!inPlace) {
            if (model != null) {
              model.close();
              model = null;
            }
            try (WeightSource weights = merger.merge(plan)) {
              model = LanguageModel.fromWeights(device.backend(), plan.tokenizerDir(), plan.outputConfig(), weights);
            }
          }
          row.put("merged_in_place", inPlace);
        }
        double mergeSeconds = (System.nanoTime() - mergeStart) / 1e9;
        long evalStart = System.nanoTime();
        row.set("metrics", evaluations.run(model));
        row.put("merge_seconds", mergeSeconds).put("eval_seconds", (System.nanoTime() - evalStart) / 1e9);
        row = (ObjectNode) new ObjectMapper().valueToTree(row);
        results.append(row);
        rows.add(row);
        ran++;
      }
    } finally {
      if (model != null) {
        model.close();
      }
    }
    if (share != null) {
      return new Outcome(rows, ran, rows.size() - ran, List.of());
    }
    List<String> axes = spec.axes().stream().map(SweepSpec.Axis::name).toList();
    results.writeCsv(axes, rows);
    TreeSet<String> metrics = new TreeSet<>();
    rows.forEach(r -> r.get("metrics").fieldNames().forEachRemaining(m -> {
      if (!m.endsWith(".low95") && !m.endsWith(".high95") && !m.endsWith(".seconds") && !m.endsWith(".mean_nll")) {
        metrics.add(m);
      }
    }));
    for (String metric : metrics) {
      SweepChart.write(out, metric, spec.axes(), rows);
    }
    return new Outcome(rows, ran, points.size() - ran, List.copyOf(metrics));
  }

  /** The row with the best value of {@code metric}: the lowest for perplexity, else the highest. */
  public static ObjectNode best(Outcome outcome, String metric) {
    boolean lower = metric.startsWith("perplexity");
    ObjectNode best = null;
    for (ObjectNode row : outcome.rows()) {
      double v = row.get("metrics").path(metric).asDouble(Double.NaN);
      if (Double.isNaN(v)) {
        continue;
      }
      double b = best == null ? Double.NaN : best.get("metrics").get(metric).asDouble();
      if (best == null || (lower ? v < b : v > b)) {
        best = row;
      }
    }
    return best;
  }

  /** A point's config, read as if it were a file beside the sweep's merge config. */
  public static MergeConfig parse(SweepSpec spec, String config) {
    return MergeConfig.parse(spec.merge(), config);
  }

  private static String dataHash(SweepSpec spec) {
    StringBuilder sb = new StringBuilder(spec.evaluations().toString());
    spec.evaluations().forEach(e -> {
      if (e.path("file").isTextual()) {
        Path file = spec.file().toAbsolutePath().getParent().resolve(e.get("file").asText());
        try {
          sb.append('\n').append(sha256(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException ex) {
          sb.append('\n').append(file);
        }
      }
    });
    return sha256(sb.toString());
  }

  private static String eta(long started, int ran, int left) {
    double perPoint = (System.nanoTime() - started) / 1e9 / ran;
    return String.format(Locale.ROOT, " (about %.0f s left)", perPoint * left);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
