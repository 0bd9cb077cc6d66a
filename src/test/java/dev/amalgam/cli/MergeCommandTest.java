package dev.amalgam.cli;

import static dev.amalgam.testing.TestModels.abs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.merge.MergeMethods;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge command end to end: summaries, exit codes and clean errors, and nothing left behind on failure. */
class MergeCommandTest {
  @TempDir Path tmp;

  private CliRun merge(String yaml, String... extra) throws Exception {
    Path config = TestModels.config(tmp, yaml);
    String[] args = Stream.concat(Stream.of("merge", config.toString(), tmp.resolve("out").toString()),
        Stream.of(extra)).toArray(String[]::new);
    return CliRun.of(args);
  }

  private void assertRefused(CliRun run, String expectedMessage) throws Exception {
    assertTrue(run.isCleanUserError(), "exit " + run.exitCode() + ", stderr: " + run.err());
    assertTrue(run.err().contains(expectedMessage), "stderr: " + run.err());
    try (var files = Files.list(tmp)) {
      assertEquals(java.util.List.of(tmp.resolve("merge.yml")), files.toList(), "output left behind");
    }
  }

  @Test
  void jsonSummaryDescribesTheMerge() throws Exception {
    CliRun run = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\ndtype: bfloat16\n", "--json", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode summary = new ObjectMapper().readTree(run.out());
    assertEquals(51, summary.get("tensors").asInt());
    assertEquals(1716992, summary.get("output_bytes").asLong());
    assertEquals(1, summary.get("shards").asInt());
    assertTrue(summary.get("device").asText().startsWith("cpu"));
    assertTrue(summary.get("gb_per_s").asDouble() > 0);
  }

  @Test
  void shardsByOutShardSizeAndWritesAnIndex() throws Exception {
    CliRun run = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n", "--out-shard-size", "300K");
    assertEquals(0, run.exitCode(), run.err());
    Path out = tmp.resolve("out");
    JsonNode index = new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
    assertEquals(1716992, index.get("metadata").get("total_size").asLong());
    assertTrue(Files.exists(out.resolve("model-00001-of-00007.safetensors")));
    assertFalse(Files.exists(out.resolve("model.safetensors")));
    var merged = TestModels.load(out);
    var expected = TestModels.load(Fixtures.MERGED);
    for (String name : expected.keySet()) {
      assertEquals(expected.get(name).data(), merged.get(name).data(), name);
    }
  }

  @Test
  void dryRunWritesNothing() throws Exception {
    CliRun run = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n", "--dry-run");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("51 tensors"), run.out());
    assertFalse(Files.exists(tmp.resolve("out")));
  }

  @Test
  void existingOutputIsRefusedWithoutOverwrite() throws Exception {
    Files.createDirectory(tmp.resolve("out"));
    Files.writeString(tmp.resolve("out/model-00001-of-00002.safetensors"), "an earlier merge");
    CliRun run = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("--overwrite"), run.err());
    assertEquals("an earlier merge", Files.readString(tmp.resolve("out/model-00001-of-00002.safetensors")));
    CliRun again = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n", "--overwrite");
    assertEquals(0, again.exitCode(), again.err());
    assertFalse(Files.exists(tmp.resolve("out/model-00001-of-00002.safetensors")));
    assertTrue(Files.exists(tmp.resolve("out/model.safetensors")));
  }

  @Test
  void anInputModelCannotBeTheOutput() throws Exception {
    Path copy = TestModels.derive(Fixtures.A, tmp.resolve("a-copy"), t -> {}, cfg -> cfg);
    Path config = TestModels.config(tmp, "models:\n  - model: a-copy\n    parameters: {weight: 0.3}\n"
        + "  - model: " + abs(Fixtures.B) + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    CliRun run = CliRun.of("merge", config.toString(), copy.toString(), "--overwrite");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("is input " + copy.toAbsolutePath()), run.err());
    assertTrue(Files.exists(copy.resolve("model.safetensors")), "the input model survived");
  }

  /** {@code amalgam merge cfg.yml . --overwrite} run beside the models: the folder that holds them is refused. */
  @Test
  void aFolderHoldingTheConfigOrAnInputCannotBeTheOutput() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("w"));
    Path copy = TestModels.derive(Fixtures.A, work.resolve("a"), t -> {}, cfg -> cfg);
    Files.writeString(work.resolve("notes.txt"), "mine");
    Path config = TestModels.config(work, "models:\n  - model: a\n    parameters: {weight: 0.3}\n"
        + "  - model: " + abs(Fixtures.B) + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    for (Path output : java.util.List.of(work, tmp)) {
      CliRun run = CliRun.of("merge", config.toString(), output.toString(), "--overwrite");
      assertTrue(run.isCleanUserError(), run.err());
      assertTrue(run.err().contains("holds the merge config") || run.err().contains("holds input"), run.err());
    }
    CliRun empty = CliRun.of("merge", config.toString(), "", "--overwrite");
    assertTrue(empty.isCleanUserError() && empty.err().contains("empty"), empty.err());
    assertEquals("mine", Files.readString(work.resolve("notes.txt")));
    assertTrue(Files.exists(copy.resolve("model.safetensors")), "the input model survived");
  }

  @Test
  void anOverwriteReplacesOnlyAModelFolder() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve("notes.txt"), "mine");
    CliRun run = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n", "--overwrite");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("not replacing") && run.err().contains("notes.txt"), run.err());
    assertEquals("mine", Files.readString(out.resolve("notes.txt")));
  }

  /** Spellings mergekit accepts are accepted; the top-level normalize it silently ignores is refused. */
  @Test
  void mergekitSpellingsOfNormalizeAndDtype() throws Exception {
    CliRun zero = merge(TestModels.models("0.3", "0.7") + "merge_method: linear\ndtype: torch.bfloat16\nparameters: {normalize: 0}\n",
        "--device", "cpu");
    assertEquals(0, zero.exitCode(), zero.err());
    CliRun topLevel = CliRun.of("merge", TestModels.config(tmp, TestModels.models("0.3", "0.7")
        + "merge_method: linear\nnormalize: false\n").toString(), tmp.resolve("out2").toString());
    assertTrue(topLevel.isCleanUserError(), topLevel.err());
    assertTrue(topLevel.err().contains("belongs under `parameters:`"), topLevel.err());
  }

  @Test
  void aDensityOutsideZeroToOneIsRefused() throws Exception {
    Path base = Fixtures.A;  // any model folder: the density check comes before any tensor is read
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: ties\nbase_model: " + TestModels.abs(base)
        + "\nparameters: {density: 1.5}\n"), "must be a number in (0, 1]");
  }

  /** Each bad parameter of the task-vector family and SCE is named before any tensor is read. */
  @Test
  void badMethodParametersAreNamed() throws Exception {
    String base = "base_model: " + TestModels.abs(Fixtures.A) + "\n";
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: della\n" + base
        + "parameters: {density: 0.5, epsilon: 0.5}\n"), "density 0.5 and epsilon 0.5");
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: breadcrumbs\n" + base
        + "parameters: {gamma: -0.1}\n"), "gamma for `");
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: sce\n" + base
        + "parameters: {select_topk: 0}\n"), "unknown parameter `weight`");
    assertRefused(merge("models:\n  - model: " + TestModels.abs(Fixtures.B) + "\nmerge_method: sce\n" + base
        + "parameters: {select_topk: 0}\n"), "select_topk");
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: dare_ties\n"), "set `base_model`");
  }

  @Test
  void aSeedMustBeAWholeNumberAndAgreeWithTheCommandLine() throws Exception {
    String config = TestModels.models("0.3", "0.7") + "merge_method: dare_linear\nbase_model: "
        + TestModels.abs(Fixtures.A) + "\n";
    assertRefused(merge(config + "random_seed: 1.5\n"), "random_seed must be a whole number");
    assertRefused(merge(config + "random_seed: 3\n", "--random-seed", "4"), "random_seed: 3 and the command line 4");
    assertRefused(merge(config, "--random-seed", "-1"), "--random-seed must be 0 or more");
  }

  @Test
  void taskArithmeticNeedsABaseModel() throws Exception {
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: task_arithmetic\n"), "set `base_model`");
  }

  @Test
  void misspelledKeyGetsASuggestion() throws Exception {
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_metod: linear\n"),
        "unknown key `merge_metod`; did you mean `merge_method`?");
  }

  @Test
  void misspelledMethodGetsASuggestion() throws Exception {
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: linaer\n"), "did you mean `linear`?");
  }

  @Test
  void misspelledParameterGetsASuggestion() throws Exception {
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: linear\nparameters: {normalise: true}\n"),
        "did you mean `normalize`?");
  }

  @Test
  void missingModelFolderIsNamed() throws Exception {
    assertRefused(merge("models:\n  - model: nowhere\n    parameters: {weight: 1}\nmerge_method: linear\n"),
        "model folder `nowhere` not found");
  }

  @Test
  void weightsSummingToZeroCannotBeNormalized() throws Exception {
    assertRefused(merge(TestModels.models("0.5", "-0.5") + "merge_method: linear\n"), "sum to 0");
  }

  @Test
  void nonFiniteWeightIsRefused() throws Exception {
    assertRefused(merge(TestModels.models("1e400", "0.5") + "merge_method: linear\n"), "must be a finite number");
    assertRefused(merge(TestModels.models(".nan", "0.5") + "merge_method: linear\n"), "must be a finite number");
    assertRefused(merge(TestModels.models("0.5", "-.inf") + "merge_method: linear\n"), "must be a finite number");
  }

  @Test
  void exponentWithoutADotIsANumber() throws Exception {
    CliRun run = merge(TestModels.models("3e-1", "7e-1") + "merge_method: linear\n", "--dry-run");
    assertEquals(0, run.exitCode(), run.err());
  }

  @Test
  void missingWeightIsRefused() throws Exception {
    assertRefused(merge("models:\n  - model: " + abs(Fixtures.A) + "\n  - model: " + abs(Fixtures.B)
        + "\nmerge_method: linear\n"), "has no `weight`");
  }

  @Test
  void unsupportedDtypeIsRefused() throws Exception {
    assertRefused(merge(TestModels.models("0.3", "0.7") + "merge_method: linear\ndtype: bfloat61\n"),
        "did you mean `bfloat16`?");
  }

  @Test
  void badYamlIsRefused() throws Exception {
    assertRefused(merge("models: [\n"), "not valid YAML");
  }

  @Test
  void missingConfigIsRefused() {
    CliRun run = CliRun.of("merge", tmp.resolve("none.yml").toString(), tmp.resolve("out").toString());
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("does not exist"), run.err());
  }

  @Test
  void badDeviceAndShardSizeAreUsageErrors() throws Exception {
    Path config = TestModels.config(tmp, TestModels.models("0.3", "0.7") + "merge_method: linear\n");
    CliRun device = CliRun.of("merge", config.toString(), tmp.resolve("o").toString(), "--device", "tpu");
    assertEquals(2, device.exitCode());
    assertTrue(device.err().contains("use auto, cuda or cpu"), device.err());
    CliRun size = CliRun.of("merge", config.toString(), tmp.resolve("o").toString(), "--out-shard-size", "big");
    assertEquals(2, size.exitCode());
    assertTrue(size.err().contains("not a size"), size.err());
  }

  @Test
  void helpTeachesWithAnExample() {
    CliRun run = CliRun.of("merge", "--help");
    assertEquals(0, run.exitCode());
    assertTrue(run.out().contains("amalgam merge examples/linear.yml"), run.out());
    assertTrue(run.out().contains("--out-shard-size"), run.out());
    for (String method : MergeMethods.names()) {
      assertTrue(run.out().contains("\n  " + method + " "), "--help names " + method);
    }
  }
}
