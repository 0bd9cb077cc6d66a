package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.cli.CliRun;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sweeps over the demo pair: the end points are exactly the models (their metrics are those `amalgam eval` gives
 * them, the second merged into the first one's weights in place), results grow and resume, the CSV and charts come out, and a bad sweep fails before any merge.
 */
class SweepTest {
  private static final String EVALUATIONS = """
      evaluations:
        perplexity: {file: %1$s/examples/eval/prose.txt}
        exact_match: {file: %1$s/examples/eval/sums.jsonl, answer: 'regex:^\\s*(-?\\d+)', max_new_tokens: 6}
        choice: {file: %1$s/examples/eval/choices.jsonl}
      """;

  @TempDir Path dir;

  @Test
  void theEndPointsAreTheModelsThemselves() throws Exception {
    JsonNode sweep = sweep(sweepFile("w: [0, 1]", "models.0.parameters.weight: 1 - w\n  models.1.parameters.weight: w"),
        "--json");
    assertEquals(2, sweep.get("ran").asInt());
    JsonNode points = sweep.get("points");
    // The second end point is merged into the first one's weights: what it measures is model b's all the same.
    assertFalse(points.get(0).get("merged_in_place").asBoolean(), "the first point builds the model");
    assertTrue(points.get(1).get("merged_in_place").asBoolean(), "the second point is merged in place");
    for (String model : List.of("a", "b")) {
      JsonNode metrics = points.get(model.equals("a") ? 0 : 1).get("metrics");
      JsonNode eval = eval("examples/qwen2-tiny-" + model);
      assertEquals(eval.get("perplexity").get("mean_nll").asDouble(), metrics.get("perplexity.mean_nll").asDouble(),
          0, model);
      assertEquals(eval.get("exact_match").get("accuracy").get("value").asDouble(),
          metrics.get("exact_match.accuracy").asDouble(), 0, model);
      assertEquals(eval.get("choice").get("accuracy").get("value").asDouble(),
          metrics.get("choice.accuracy").asDouble(), 0, model);
    }
  }

  @Test
  void resultsResumeAndComeOutAsCsvAndCharts() throws Exception {
    Path file = sweepFile("w: [0, 0.5]\n  v: [1, 2]", "models.0.parameters.weight: v - w\n  models.1.parameters.weight: w");
    JsonNode first = sweep(file, "--json");
    assertEquals(4, first.get("ran").asInt());
    Path results = dir.resolve("out");
    List<String> lines = Files.readAllLines(results.resolve("results.jsonl"));
    assertEquals(4, lines.size());
    // A point whose line was cut short by an interruption runs again; the others are skipped.
    Files.write(results.resolve("results.jsonl"), List.of(lines.get(0), lines.get(1), lines.get(2),
        lines.get(3).substring(0, 40)));
    JsonNode second = sweep(file, "--json");
    assertEquals(1, second.get("ran").asInt());
    assertEquals(3, second.get("skipped").asInt());
    List<String> csv = Files.readAllLines(results.resolve("results.csv"));
    assertEquals(5, csv.size());
    assertTrue(csv.get(0).startsWith("w,v,choice.accuracy,"), csv.get(0));
    BufferedImage chart = ImageIO.read(results.resolve("exact_match.accuracy.png").toFile());
    assertNotNull(chart);
    assertEquals(800, chart.getWidth());
    assertNotNull(ImageIO.read(results.resolve("perplexity.heatmap.png").toFile()), "a two-axis grid's heatmap");
    SweepSpec spec = SweepSpec.load(file);
    List<ObjectNode> rows = Files.readAllLines(results.resolve("results.jsonl"))
        .stream().filter(l -> l.endsWith("}")).map(SweepTest::row).toList();
    assertEquals(2, SweepChart.write(dir, "perplexity", spec.axes(), rows), "one line per value of the second axis");
  }

  @Test
  void theBestPointIsSavedAsAModel() throws Exception {
    Path best = dir.resolve("best");
    sweep(sweepFile("w: [0, 1]", "models.0.parameters.weight: 1 - w\n  models.1.parameters.weight: w"), "--json",
        "--save-best", best.toString());
    assertTrue(Files.exists(best.resolve("model.safetensors")));
    assertTrue(Files.readString(best.resolve("mergekit_config.yml")).contains("\"weight\" : 1.0"));
  }

  @Test
  void aBadSweepFailsBeforeAnyMerge() throws Exception {
    CliRun unknown = run(sweepFile("w: [0, 1]", "models.0.parameters.weight: 1 - x"));
    assertEquals(2, unknown.exitCode(), unknown.err());
    assertTrue(unknown.err().contains("1 - x"), unknown.err());
    CliRun path = run(sweepFile("w: [0, 1]", "models.7.parameters.weight: w"));
    assertEquals(2, path.exitCode(), path.err());
    assertTrue(path.err().contains("models.7.parameters.weight"), path.err());
    Path file = sweepFile("w: [0, 1]", "models.1.parameters.weight: w");
    Files.writeString(file, Files.readString(file).replace("max_new_tokens: 6}", "max_new_tokens: 6, format: '(('}"));
    CliRun regex = run(file);
    assertEquals(2, regex.exitCode(), regex.err());
    assertTrue(regex.err().contains("not a valid regex"), regex.err());
    assertFalse(Files.exists(dir.resolve("out/results.jsonl")));
  }

  private Path sweepFile(String axes, String set) throws Exception {
    String root = Path.of("").toAbsolutePath().toString();
    return Files.writeString(dir.resolve("sweep.yml"), "merge: " + root + "/examples/linear.yml\naxes:\n  " + axes
        + "\nset:\n  " + set + "\n" + EVALUATIONS.formatted(root));
  }

  private CliRun run(Path file, String... options) {
    String[] args = new String[options.length + 5];
    args[0] = "sweep";
    args[1] = file.toString();
    args[2] = "--out";
    args[3] = dir.resolve("out").toString();
    args[4] = "--device=cpu";
    System.arraycopy(options, 0, args, 5, options.length);
    return CliRun.of(args);
  }

  private JsonNode sweep(Path file, String... options) throws Exception {
    CliRun run = run(file, options);
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }

  private static JsonNode eval(String model) throws Exception {
    CliRun run = CliRun.of("eval", model, "--perplexity", "examples/eval/prose.txt", "--questions",
        "examples/eval/sums.jsonl", "--answer", "regex:^\\s*(-?\\d+)", "--max-new-tokens", "6", "--choices",
        "examples/eval/choices.jsonl", "--device", "cpu", "--json");
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }

  private static ObjectNode row(String line) {
    try {
      return (ObjectNode) new ObjectMapper().readTree(line);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
