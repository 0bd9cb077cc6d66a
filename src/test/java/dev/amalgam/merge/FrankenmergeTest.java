package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.cli.CliRun;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slices:} configs: a frankenmerge of the demo models (examples/methods/passthrough.yml: layers 0-2 of a,
 * then 1-3 of b) has the right layers and config.json, and generates, written out or merged in memory; bad slices
 * fail before any tensor is written, saying why.
 */
class FrankenmergeTest {
  private static final Path EXAMPLE = Path.of("examples/methods/passthrough.yml");

  @TempDir Path dir;

  @Test
  void stacksTheSlicesLayersAndSaysSoInConfigJson() throws Exception {
    Path out = dir.resolve("out");
    CliRun run = CliRun.of("merge", EXAMPLE.toString(), out.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode config = new ObjectMapper().readTree(Files.readString(out.resolve("config.json")));
    assertEquals(6, config.get("num_hidden_layers").asInt());
    assertEquals(6, config.get("layer_types").size(), "layer_types follows the layers");
    Map<String, HostTensor> merged = TestModels.load(out);
    Map<String, HostTensor> a = TestModels.load(Path.of("examples/qwen2-tiny-a"));
    Map<String, HostTensor> b = TestModels.load(Path.of("examples/qwen2-tiny-b"));
    String up = ".mlp.up_proj.weight";
    assertEquals(a.get("model.layers.2" + up).data(), merged.get("model.layers.2" + up).data());
    assertEquals(b.get("model.layers.2" + up).data(), merged.get("model.layers.4" + up).data());
    assertNotEquals(b.get("model.layers.1" + up).data(), merged.get("model.layers.3" + up).data(), "scaled by 0.5");
    assertEquals(a.get("model.embed_tokens.weight").data(), merged.get("model.embed_tokens.weight").data());
    assertEquals(b.get("lm_head.weight").data(), merged.get("lm_head.weight").data());
    assertTrue(merged.keySet().stream().noneMatch(n -> n.contains("layers.6.")), merged.keySet().toString());
  }

  @Test
  void generatesWrittenOutAndInMemoryAlike() throws Exception {
    Path out = dir.resolve("out");
    assertEquals(0, CliRun.of("merge", EXAMPLE.toString(), out.toString(), "--device", "cpu").exitCode());
    int[] fromFolder = tokens(out.toString());
    int[] inMemory = tokens(EXAMPLE.toString());
    assertEquals(24, fromFolder.length);
    assertArrayEquals(fromFolder, inMemory);
  }

  /** mergekit's oracle of the same frankenmerge, bit for bit, and the config.json mergekit wrote but for its lists. */
  @Test
  void matchesMergekitsPassthrough() throws Exception {
    MergekitOracleTest.assertMatchesOracle("passthrough", "cpu", dir);
    JsonNode ours = new ObjectMapper().readTree(Files.readString(dir.resolve("out/config.json")));
    JsonNode mergekit = new ObjectMapper().readTree(
        Files.readString(Fixtures.MERGEKIT_ORACLE.resolve("qwen2-tiny.passthrough.config.json")));
    assertEquals(mergekit.get("num_hidden_layers"), ours.get("num_hidden_layers"));
    assertEquals(4, mergekit.get("layer_types").size(), "mergekit leaves layer_types at the inputs' length");
  }

  /** A slice-wise slerp over every layer of two models merges what the same slerp over `models` merges. */
  @Test
  void slicesOverEveryLayerMergeWhatModelsMerge() throws Exception {
    String a = Path.of("examples/qwen2-tiny-a").toAbsolutePath().toString();
    String b = Path.of("examples/qwen2-tiny-b").toAbsolutePath().toString();
    String rest = "merge_method: slerp\nbase_model: " + a + "\nparameters: {t: [0, 0.3, 1]}\n";
    Path bySlices = merge("sliced", "slices:\n  - sources:\n      - {model: " + a + ", layer_range: [0, 4]}\n"
        + "      - {model: " + b + ", layer_range: [0, 4]}\n" + rest);
    Path byModels = merge("listed", "models:\n  - model: " + a + "\n  - model: " + b + "\n" + rest);
    Map<String, HostTensor> sliced = TestModels.load(bySlices);
    Map<String, HostTensor> listed = TestModels.load(byModels);
    assertEquals(listed.keySet(), sliced.keySet());
    listed.forEach((name, t) -> assertEquals(t.data(), sliced.get(name).data(), name));
  }

  private Path merge(String name, String yaml) throws Exception {
    Path folder = Files.createDirectories(dir.resolve(name));
    Path out = folder.resolve("out");
    CliRun run = CliRun.of("merge", TestModels.config(folder, yaml).toString(), out.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    return out;
  }

  @Test
  void refusesSlicesThatDoNotFit() throws Exception {
    assertRefused("""
        slices:
          - sources: [{model: %s, layer_range: [2, 9]}]
        merge_method: passthrough
        """, "has 4 layers, so its layer_range [2, 9] runs past them");
    assertRefused("""
        slices:
          - sources:
              - {model: %1$s, layer_range: [0, 2]}
              - {model: %1$s, layer_range: [0, 3]}
        merge_method: linear
        parameters: {weight: 1}
        """, "has 3 layers, and slices[0].sources[0]'s has 2");
    assertRefused("""
        slices:
          - sources: [{model: %s, layer_range: [0, 2]}]
        merge_method: slerp
        base_model: %1$s/../qwen2-tiny-b
        parameters: {t: 0.5}
        """, "slices[0] has no source for base_model");
    assertRefused("""
        models: [{model: %s}]
        slices: []
        merge_method: passthrough
        """, "both `models` and `slices`");
  }

  private void assertRefused(String yaml, String message) throws Exception {
    String a = Path.of("examples/qwen2-tiny-a").toAbsolutePath().toString();
    Path config = TestModels.config(dir, yaml.formatted(a));
    CliRun run = CliRun.of("merge", config.toString(), dir.resolve("out").toString(), "--device", "cpu");
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains(message), run.err());
    assertTrue(!run.err().contains("\tat "), "no stack trace: " + run.err());
    assertTrue(Files.notExists(dir.resolve("out")), "nothing written");
  }

  private static int[] tokens(String model) throws Exception {
    CliRun run = CliRun.of("generate", model, "--prompt", "The smith kept", "--max-new-tokens", "24", "--device", "cpu",
        "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode tokens = new ObjectMapper().readTree(run.out()).get("tokens");
    int[] ids = new int[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens.get(i).asInt();
    }
    return ids;
  }
}
