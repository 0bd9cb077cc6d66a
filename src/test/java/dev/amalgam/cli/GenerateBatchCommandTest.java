package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.model.Golden;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate --prompts: JSON Lines in, JSON Lines out, on the tiny models. */
class GenerateBatchCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  private Path prompts(String... lines) throws Exception {
    Path file = tmp.resolve("prompts.jsonl");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static List<JsonNode> results(String jsonl) throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : jsonl.split("\n")) {
      nodes.add(JSON.readTree(line));
    }
    return nodes;
  }

  private static int[] tokens(JsonNode result) {
    int[] ids = new int[result.get("tokens").size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = result.get("tokens").get(i).asInt();
    }
    return ids;
  }

  private static JsonNode goldenTexts() throws Exception {
    return Fixtures.generationGolden();
  }

  @Test
  void resultsComeInInputOrderAndMatchTransformers() throws Exception {
    Path file = prompts(
        "{\"prompt\": \"The smith kept\", \"id\": \"smith\"}",
        "\"12 + 7 =\"",
        "",
        "{\"prompt\": \"How much tin?\", \"chat\": true}",
        "{\"prompt\": \"When the alloy cooled, the apprentice\", \"max_new_tokens\": 5}");
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompts", file.toString(), "--max-new-tokens", "48",
        "--batch-size", "2", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    List<JsonNode> results = results(run.out());
    assertEquals(4, results.size());
    assertEquals("smith", results.get(0).get("id").asText());
    assertEquals(2, results.get(1).get("id").asInt());
    assertEquals(4, results.get(2).get("id").asInt());
    assertEquals(5, results.get(3).get("id").asInt());
    Golden golden = Golden.of("a");
    int[] goldenPrompt = {0, 1, 3, 2};
    for (int i = 0; i < 4; i++) {
      int p = goldenPrompt[i];
      JsonNode r = results.get(i);
      int[] expected = golden.ints("p" + p + ".greedy");
      assertArrayEquals(Arrays.copyOf(expected, i == 3 ? 5 : 48), tokens(r), "line of prompt " + p);
      assertEquals(golden.ints("p" + p + ".ids").length, r.get("prompt_tokens").asInt());
      assertEquals("max_tokens", r.get("finish_reason").asText());
    }
    assertEquals(goldenTexts().get("a.p0.text").asText(), results.get(0).get("text").asText());
    assertTrue(run.err().contains("4 prompts") && run.err().contains("decode"), run.err());
  }

  @Test
  void aMergeConfigServesTheBatchFromMemory() throws Exception {
    Path file = prompts("\"The smith kept\"", "\"12 + 7 =\"");
    CliRun run = CliRun.of("generate", "examples/linear.yml", "--prompts", file.toString(), "--max-new-tokens", "48",
        "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    List<JsonNode> results = results(run.out());
    assertEquals(goldenTexts().get("merged.p0.text").asText(), results.get(0).get("text").asText());
    assertEquals(goldenTexts().get("merged.p1.text").asText(), results.get(1).get("text").asText());
  }

  @Test
  void outputFileIsWrittenWholeAndNothingElseIsLeft() throws Exception {
    Path file = prompts("\"The smith kept\"", "{\"prompt\": \"12 + 7 =\", \"max_new_tokens\": 3}");
    Path out = tmp.resolve("results").resolve("out.jsonl");
    Files.createDirectories(out.getParent());
    Files.writeString(out, "old results\n");
    CliRun run = CliRun.of("generate", Fixtures.B.toString(), "--prompts", file.toString(), "--max-new-tokens", "4",
        "--output", out.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    assertEquals("", run.out());
    CliRun toStdout = CliRun.of("generate", Fixtures.B.toString(), "--prompts", file.toString(),
        "--max-new-tokens", "4", "--device", "cpu");
    assertEquals(toStdout.out(), Files.readString(out));
    assertEquals(List.of(out), files(out.getParent()));
  }

  @Test
  void aFailedRunLeavesThePreviousOutputAlone() throws Exception {
    Path file = prompts("\"The smith kept\"", "\"When the alloy cooled, the apprentice\"");
    Path out = tmp.resolve("out.jsonl");
    Files.writeString(out, "old results\n");
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompts", file.toString(), "--max-context", "6",
        "--output", out.toString(), "--device", "cpu");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("line 2: the prompt is"), run.err());
    assertEquals("old results\n", Files.readString(out));
    assertEquals(List.of(out, file), files(tmp));
  }

  @Test
  void badLinesAreUserErrorsNamingTheLine() throws Exception {
    String[][] cases = {
        {"{\"prompt\": \"x\"", "line 2: not valid JSON"},
        {"{\"text\": \"x\"}", "line 2: unknown key \"text\""},
        {"{\"id\": 3}", "line 2: \"prompt\" must be given as a string"},
        {"{\"prompt\": 5}", "line 2: \"prompt\" must be given as a string"},
        {"[\"x\"]", "line 2: expected a JSON object"},
        {"{\"prompt\": \"x\", \"max_new_tokens\": 0}", "line 2: \"max_new_tokens\" must be a positive integer"},
        {"{\"prompt\": \"x\", \"chat\": \"yes\"}", "line 2: \"chat\" must be true or false"},
        {"{\"prompt\": \"x\", \"system\": \"Be brief.\"}", "line 2: \"system\" needs \"chat\": true"},
        {"{\"prompt\": \"\"}", "line 2: the prompt is empty"},
    };
    for (String[] c : cases) {
      Path file = prompts("\"The smith kept\"", c[0]);
      CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompts", file.toString(), "--device", "cpu");
      assertTrue(run.isCleanUserError(), c[0] + ": " + run.err());
      assertTrue(run.err().contains(c[1]), c[0] + ": " + run.err());
    }
  }

  @Test
  void optionsThatDoNotFitABatchAreUserErrors() throws Exception {
    Path file = prompts("\"The smith kept\"");
    assertTrue(CliRun.of("generate", Fixtures.A.toString(), "--prompts", file.toString(), "--json")
        .err().contains("--json is for a single prompt"));
    assertTrue(CliRun.of("generate", Fixtures.A.toString(), "--prompts", file.toString(), "--batch-size", "0")
        .err().contains("--batch-size must be at least 1"));
    CliRun single = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--output", "o.jsonl");
    assertTrue(single.isCleanUserError() && single.err().contains("--output needs --prompts"), single.err());
    Path empty = tmp.resolve("empty.jsonl");
    Files.writeString(empty, "\n\n");
    assertTrue(CliRun.of("generate", Fixtures.A.toString(), "--prompts", empty.toString()).err().contains("has no prompts"));
    assertTrue(CliRun.of("generate", Fixtures.A.toString(), "--prompts", tmp.resolve("nope.jsonl").toString())
        .isCleanUserError());
  }

  private static List<Path> files(Path dir) throws Exception {
    try (Stream<Path> list = Files.list(dir)) {
      return list.sorted().toList();
    }
  }
}
