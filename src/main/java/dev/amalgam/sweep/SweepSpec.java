package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.config.YamlDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep file: the merge config to vary ({@code merge}), its axes (a list of values, or {@code {from, to, step}}),
 * how the axes set the config ({@code set}: a config path such as {@code models.1.parameters.weight} to an
 * expression over the axes such as {@code 1 - w}), and the evaluations (as {@code amalgam eval} takes them).
 */
public record SweepSpec(Path file, Path merge, JsonNode mergeTree, List<Axis> axes, Map<String, String> set,
    JsonNode evaluations, String best) {
  private static final long MAX_BYTES = 1 << 20;
  private static final Set<String> KEYS = Set.of("merge", "axes", "set", "evaluations", "best");
  /** Points at most: a grid larger than this is a typo in a step. */
  private static final int MAX_POINTS = 10_000;

  /** One axis: its name and values, in order. */
  public record Axis(String name, List<Double> values) {}

  public static SweepSpec load(Path file) {
    return of(file, YamlDocument.parse(file, BoundedText.read(file, MAX_BYTES, "sweep file")));
  }

  /**
   * A sweep read from {@code file}, or from a document of it: {@code merge} is the path of a merge config, or the
   * merge config itself (as in a batch file), whose relative paths are then relative to {@code file}'s folder.
   */
  public static SweepSpec of(Path file, JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new UserError(file + " must be a mapping with merge, axes, set and evaluations");
    }
    root.fieldNames().forEachRemaining(key -> {
      if (!KEYS.contains(key)) {
        throw new UserError(file + ": unknown key `" + key + "` (known: merge, axes, set, evaluations, best)");
      }
    });
    Path merge;
    JsonNode mergeTree;
    if (root.path("merge").isObject()) {
      merge = file.toAbsolutePath();
      mergeTree = root.get("merge");
    } else if (root.path("merge").isTextual()) {
      merge = file.toAbsolutePath().getParent().resolve(root.get("merge").asText()).normalize();
      if (!Files.isRegularFile(merge)) {
        throw new UserError(file + ": merge config " + merge + " not found");
      }
      mergeTree = YamlDocument.parse(merge, BoundedText.read(merge, MAX_BYTES, "merge config"));
    } else {
      throw new UserError(file + ": `merge` must be the path of a merge config, or a merge config");
    }
    List<Axis> axes = axes(file, root.path("axes"));
    Map<String, String> set = new LinkedHashMap<>();
    if (!root.path("set").isObject() || root.path("set").isEmpty()) {
      throw new UserError(file + ": `set` must map config paths to expressions over the axes");
    }
    root.get("set").fields().forEachRemaining(e -> set.put(e.getKey(), e.getValue().asText()));
    JsonNode evaluations = root.path("evaluations");
    if (!evaluations.isObject() || evaluations.isEmpty()) {
      throw new UserError(file + ": `evaluations` must name at least one of perplexity, exact_match, choice");
    }
    evaluations.fieldNames().forEachRemaining(name -> {
      if (!Set.of("perplexity", "exact_match", "choice").contains(name)) {
        throw new UserError(file + ": unknown evaluation `" + name + "` (known: perplexity, exact_match, choice)");
      }
    });
    String best = root.hasNonNull("best") ? root.get("best").asText() : null;
    return new SweepSpec(file, merge, mergeTree, axes, set, evaluations, best);
  }

  /** Every point of the grid, the last axis varying fastest. */
  public List<Map<String, Double>> points() {
    List<Map<String, Double>> points = new ArrayList<>();
    points.add(new LinkedHashMap<>());
    for (Axis axis : axes) {
      List<Map<String, Double>> next = new ArrayList<>();
      for (Map<String, Double> point : points) {
        for (double v : axis.values()) {
          Map<String, Double> p = new LinkedHashMap<>(point);
          p.put(axis.name(), v);
          next.add(p);
        }
      }
      points = next;
    }
    return points;
  }

  private static List<Axis> axes(Path file, JsonNode node) {
    if (!node.isObject() || node.isEmpty() || node.size() > 2) {
      throw new UserError(file + ": `axes` must name one or two axes, each a list or {from, to, step}");
    }
    List<Axis> axes = new ArrayList<>();
    long points = 1;
    for (var it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      List<Double> values = new ArrayList<>();
      JsonNode v = e.getValue();
      if (v.isArray()) {
        v.forEach(x -> values.add(number(file, e.getKey(), x)));
      } else if (v.isObject()) {
        double from = number(file, e.getKey(), v.path("from"));
        double to = number(file, e.getKey(), v.path("to"));
        double step = number(file, e.getKey(), v.path("step"));
        if (step <= 0 || to < from || (to - from) / step > MAX_POINTS) {
          throw new UserError(file + ": axis " + e.getKey() + " needs from <= to and a positive step");
        }
        long count = Math.round(Math.floor((to - from) / step + 1e-9)) + 1;
        for (long i = 0; i < count; i++) {
          // Rounded to 12 digits, so that 0.1 steps give 0.3, not 0.30000000000000004.
          values.add(Math.round((from + i * step) * 1e12) / 1e12);
        }
      }
      if (values.isEmpty()) {
        throw new UserError(file + ": axis " + e.getKey() + " has no values");
      }
      points *= values.size();
      axes.add(new Axis(e.getKey(), values));
    }
    if (points > MAX_POINTS) {
      throw new UserError(file + ": the grid has " + points + " points, over " + MAX_POINTS);
    }
    return axes;
  }

  private static double number(Path file, String axis, JsonNode v) {
    if (!v.isNumber()) {
      throw new UserError(file + ": axis " + axis + " values must be numbers, not " + v);
    }
    return v.asDouble();
  }
}
