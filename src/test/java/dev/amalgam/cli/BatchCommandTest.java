package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * amalgam batch on the demo pair: the example's stages give what the same merges give one by one (and its sweep its
 * table), a rerun merges nothing, a changed merge reruns with what reads it and nothing else, and a bad batch fails
 * before anything is written.
 */
class BatchCommandTest {
  private static final String EXAMPLES = Path.of("examples").toAbsolutePath().toString();

  @TempDir Path dir;

  @Test
  void theStagesGiveWhatTheMergesGiveOneByOne() throws Exception {
    Path out = dir.resolve("out");
    JsonNode first = batch(Path.of("examples/batch.yml"), out);
    assertEquals(3, first.get("stages").asInt());
    for (JsonNode merge : first.get("merges")) {
      assertEquals(merge.get("name").asText().equals("toward-prose") ? "swept" : "merged",
          merge.get("status").asText(), merge.toString());
    }
    assertTrue(Files.isRegularFile(out.resolve("toward-prose/results.csv")), "the sweep's table");
    assertEquals("[\"ab\",\"ba\"]", first.get("merges").get(2).get("needs").toString());
    // The same three merges by hand, the third reading the first two's outputs.
    Path ab = merge("ab", models("qwen2-tiny-a", "0.3", "qwen2-tiny-b", "0.7"));
    Path ba = merge("ba", models("qwen2-tiny-a", "0.7", "qwen2-tiny-b", "0.3"));
    Path middle = merge("middle", models(ab.toString(), "0.5", ba.toString(), "0.5"));
    TestModels.assertSameTensors(middle, out.resolve("middle"));
    TestModels.assertSameTensors(ab, out.resolve("ab"));
  }

  @Test
  void aRerunMergesOnlyWhatChangedAndWhatReadsIt() throws Exception {
    Path out = dir.resolve("out");
    Path file = Files.writeString(dir.resolve("batch.yml"), Files.readString(Path.of("examples/batch.yml"))
        .replace("model: qwen2-tiny-", "model: " + EXAMPLES + "/qwen2-tiny-")
        .replace("file: eval/", "file: " + EXAMPLES + "/eval/"));
    batch(file, out);
    FileTime abWritten = Files.getLastModifiedTime(out.resolve("ab/config.json"));
    JsonNode again = batch(file, out);
    for (JsonNode merge : again.get("merges")) {
      assertEquals("up to date", merge.get("status").asText(), merge.toString());
    }
    // ba's second weight changes: ba, middle (which reads it) and the sweep (which reads middle) run again; ab not.
    Files.writeString(file, Files.readString(file).replace("weight: 0.3}\nmerge_method: linear\ndtype: bfloat16\n"
        + "---\nname: middle", "weight: 0.4}\nmerge_method: linear\ndtype: bfloat16\n---\nname: middle"));
    JsonNode changed = batch(file, out);
    assertEquals("up to date", changed.get("merges").get(0).get("status").asText());
    assertEquals("merged", changed.get("merges").get(1).get("status").asText());
    assertEquals("merged", changed.get("merges").get(2).get("status").asText());
    assertEquals("swept", changed.get("merges").get(3).get("status").asText());
    assertEquals(abWritten, Files.getLastModifiedTime(out.resolve("ab/config.json")), "ab was not rewritten");
    assertTrue(Files.readString(out.resolve("ba/mergekit_config.yml")).contains("weight: 0.4"));
  }

  @Test
  void aDryRunPrintsTheStagesAndWritesNothing() {
    Path out = dir.resolve("out");
    CliRun run = CliRun.of("batch", "examples/batch.yml", "--out-dir", out.toString(), "--dry-run");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("stage 1:") && run.out().contains("middle") && run.out().contains("(reads ab, ba)")
        && run.out().contains("to sweep"), run.out());
    assertFalse(Files.exists(out));
  }

  @Test
  void badBatchesFailBeforeAnythingIsWritten() throws Exception {
    String a = EXAMPLES + "/qwen2-tiny-a";
    String b = EXAMPLES + "/qwen2-tiny-b";
    String ab = "name: ab\n" + models(a, "0.5", b, "0.5");
    String cycle = "name: x\n" + models("y", "0.5", b, "0.5") + "---\nname: y\n" + models("x", "0.5", a, "0.5");
    Map<String, String> cases = Map.of(
        "depend on each other in a cycle", cycle,
        "neither a merge of this batch", ab + "---\nname: c\n" + models("abb", "0.5", a, "0.5"),
        "two merges are named `ab`", ab + "---\n" + ab,
        "needs a `name:`", ab + "---\n" + models(a, "0.5", b, "0.5"),
        "must be letters, digits", ab.replace("name: ab", "name: ../up"),
        "unknown merge_method", ab.replace("merge_method: linear", "merge_method: lineaar"),
        "unknown `slurm:` key `partiton`", "slurm: {partiton: gpu}\n---\n" + ab,
        "`slurm: sweep_tasks` must be a whole number", "slurm: {sweep_tasks: two}\n---\n" + ab);
    for (Map.Entry<String, String> bad : cases.entrySet()) {
      Path file = Files.writeString(dir.resolve("batch.yml"), bad.getValue());
      Path out = dir.resolve("out");
      CliRun run = CliRun.of("batch", file.toString(), "--out-dir", out.toString());
      assertTrue(run.isCleanUserError(), bad.getKey() + ": " + run.err());
      assertTrue(run.err().contains(bad.getKey()), bad.getKey() + ": " + run.err());
      assertFalse(Files.exists(out), bad.getKey() + ": nothing is written");
    }
  }

  private static String models(String a, String weightA, String b, String weightB) {
    return "models:\n  - model: " + a + "\n    parameters: {weight: " + weightA + "}\n  - model: " + b
        + "\n    parameters: {weight: " + weightB + "}\nmerge_method: linear\ndtype: bfloat16\n";
  }

  private static JsonNode batch(Path file, Path out) throws Exception {
    CliRun run = CliRun.of("batch", file.toString(), "--out-dir", out.toString(), "--device", "cpu", "--json");
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }

  /** {@code config} (models relative to examples/) merged by amalgam merge into dir/by-hand/NAME. */
  private Path merge(String name, String config) throws Exception {
    Path file = Files.writeString(dir.resolve(name + ".yml"), config.replace("model: qwen2-tiny-",
        "model: " + EXAMPLES + "/qwen2-tiny-"));
    Path out = Files.createDirectories(dir.resolve("by-hand")).resolve(name);
    CliRun run = CliRun.of("merge", file.toString(), out.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    return out;
  }
}
