package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A sweep's results folder: {@code results.jsonl}, one line appended (and synced) as each point finishes, which a
 * rerun reads to skip the points it has (by a hash of the point's config and the evaluations' data); and
 * {@code results.csv}, one row per point of the grid, written at the end. A sweep split over cluster tasks appends
 * each task's points to its own {@code results-share-I.jsonl} (no two writers share a file on shared storage); every
 * {@code results*.jsonl} is read, so the run that gathers them finds every point done.
 */
final class SweepResults {
  static final String JSONL = "results.jsonl";
  static final String CSV = "results.csv";

  private final Path folder;
  private final String appendTo;
  private final Map<String, ObjectNode> byKey = new LinkedHashMap<>();

  /** Appending to {@code appendTo}: {@link #JSONL}, or a share's own file. */
  SweepResults(Path folder, String appendTo) {
    this.folder = folder;
    this.appendTo = appendTo;
    try {
      Files.createDirectories(folder);
      List<Path> files;
      try (Stream<Path> listed = Files.list(folder)) {
        files = listed.filter(f -> f.getFileName().toString().matches("results.*\\.jsonl")).sorted().toList();
      }
      ObjectMapper mapper = new ObjectMapper();
      for (Path jsonl : files) {
        for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            // A line cut short by an interruption is a point to run again.
            try {
              JsonNode row = mapper.readTree(line);
              byKey.put(row.path("key").asText(), (ObjectNode) row);
            } catch (IOException | ClassCastException partial) {
              continue;
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UserError("cannot use " + folder + " for the sweep's results: " + e.getMessage());
    }
  }

  ObjectNode get(String key) {
    return byKey.get(key);
  }

  void append(ObjectNode row) {
    try {
      Files.writeString(folder.resolve(appendTo), row + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + folder.resolve(appendTo), e);
    }
    byKey.put(row.get("key").asText(), row);
  }

  /** results.csv over {@code rows} (in grid order): the axes, then every metric. */
  void writeCsv(List<String> axes, List<ObjectNode> rows) {
    TreeSet<String> metrics = new TreeSet<>();
    rows.forEach(r -> r.get("metrics").fieldNames().forEachRemaining(metrics::add));
    List<String> lines = new ArrayList<>();
    List<String> header = new ArrayList<>(axes);
    header.addAll(metrics);
    lines.add(String.join(",", header));
    for (ObjectNode row : rows) {
      List<String> cells = new ArrayList<>();
      axes.forEach(a -> cells.add(number(row.get("point").get(a).asDouble())));
      metrics.forEach(m -> cells.add(row.get("metrics").has(m) ? number(row.get("metrics").get(m).asDouble()) : ""));
      lines.add(String.join(",", cells));
    }
    try {
      Files.write(folder.resolve(CSV), lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + folder.resolve(CSV), e);
    }
  }

  private static String number(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.10g", v).replaceAll("\\.?0+(e|$)", "$1");
  }
}
