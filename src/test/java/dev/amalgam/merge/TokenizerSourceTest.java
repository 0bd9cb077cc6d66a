package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.cli.CliRun;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokenizer_source} and {@code tokenizer}: the output vocabulary built as mergekit builds it, and each model's
 * embedding rows re-indexed to it (a token a model lacks takes the row mergekit gives it) before the merge.
 */
class TokenizerSourceTest {
  private static final String EMBED = "model.embed_tokens.weight";

  @TempDir Path dir;

  @Test
  void baseOverModelsThatShareATokenizerIsThePlainMerge() throws Exception {
    Path plain = merge("plain", Fixtures.B, "");
    Path based = merge("based", Fixtures.B, "tokenizer_source: base\n");
    Map<String, HostTensor> expected = TestModels.load(plain);
    Map<String, HostTensor> ours = TestModels.load(based);
    expected.forEach((name, t) -> assertEquals(t.data(), ours.get(name).data(), name));
  }

  /** b adds `<tool_call>` (row 465); the union appends it, a takes b's row for it, and rows pad to 8. */
  @Test
  void unionAppendsATokenOnlyOneModelHas() throws Exception {
    Path b = withToolCall(dir.resolve("b-tool"));
    Path out = merge("union", b, "tokenizer: {source: union, pad_to_multiple_of: 8}\n");
    Map<String, HostTensor> merged = TestModels.load(out);
    assertArrayEquals(new long[] {472, 128}, merged.get(EMBED).shape());
    float[] expected = row(TestModels.load(b).get(EMBED), 465);
    assertArrayEquals(expected, row(merged.get(EMBED), 465), "only b has the token: both models take b's row");
    assertArrayEquals(row(merged.get(EMBED), 466), row(merged.get(EMBED), 471), "padding rows are alike");
    ObjectMapper json = new ObjectMapper();
    JsonNode config = json.readTree(Files.readString(out.resolve("config.json")));
    assertEquals(472, config.get("vocab_size").asInt());
    JsonNode tokenizer = json.readTree(Files.readString(out.resolve("tokenizer.json")));
    boolean appended = false;
    for (JsonNode token : tokenizer.get("added_tokens")) {
      appended |= token.get("content").asText().equals("<tool_call>") && token.get("id").asInt() == 465;
    }
    assertTrue(appended, "the union's tokenizer.json has <tool_call> as id 465");
    CliRun generate = CliRun.of("generate", out.toString(), "--prompt", "The smith kept", "--max-new-tokens", "8",
        "--device", "cpu");
    assertEquals(0, generate.exitCode(), generate.err());
  }

  /** Merged in memory, a union's model reads the union's tokenizer too, from a folder that lives as long as the plan. */
  @Test
  void aUnionMergedInMemoryHasItsTokenizer() throws Exception {
    Path b = withToolCall(dir.resolve("b-tool"));
    CliRun run = run("memory", b, "tokenizer_source: union\n");
    assertEquals(0, run.exitCode(), run.err());
    Path folder;
    try (MergePlan plan = MergePlanner.plan(MergeConfig.load(dir.resolve("memory/merge.yml")))) {
      folder = plan.tokenizerDir();
      assertTrue(Files.readString(folder.resolve("tokenizer.json")).contains("<tool_call>"));
      assertTrue(Files.exists(folder.resolve("tokenizer_config.json")));
    }
    assertFalse(Files.exists(folder), "the plan's temporary tokenizer folder is gone once it closes");
    CliRun generate = CliRun.of("generate", dir.resolve("memory/merge.yml").toString(), "--prompt", "<tool_call>",
        "--max-new-tokens", "2", "--device", "cpu", "--json");
    assertEquals(0, generate.exitCode(), generate.err());
    assertEquals(1, new ObjectMapper().readTree(generate.out()).get("prompt_tokens").asInt(), generate.out());
  }

  /** b's tokenizer calls id 464 `<|end|>`: under a's vocabulary, b lacks `<|im_end|>` and takes a's row for it. */
  @Test
  void aTokenOneModelLacksTakesTheRowOfTheOneThatHasIt() throws Exception {
    Path b = TestModels.derive(Fixtures.B, dir.resolve("b-renamed"), tensors -> {}, config -> config);
    Files.writeString(b.resolve("tokenizer.json"),
        Files.readString(b.resolve("tokenizer.json")).replace("<|im_end|>", "<|end|>"));
    Path out = merge("renamed", b, "tokenizer_source: base\n");
    assertArrayEquals(row(TestModels.load(Fixtures.A).get(EMBED), 464), row(TestModels.load(out).get(EMBED), 464));
  }

  @Test
  void aSourceThatIsNotMergedIsRefused() throws Exception {
    CliRun run = run("other", Fixtures.B, "tokenizer_source: " + TestModels.abs(Fixtures.BASE) + "\n");
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("is not one of the merged models"), run.err());
    assertFalse(Files.exists(dir.resolve("other/out")));
  }

  @Test
  void badTokenizerKeysAreRefusedByName() throws Exception {
    CliRun both = run("both", Fixtures.B, "tokenizer_source: base\ntokenizer: {source: union}\n");
    assertEquals(2, both.exitCode());
    assertTrue(both.err().contains("both `tokenizer_source` and `tokenizer`"), both.err());
    CliRun tokens = run("tokens", Fixtures.B, "tokenizer: {source: union, tokens: {x: {source: base}}}\n");
    assertEquals(2, tokens.exitCode());
    assertTrue(tokens.err().contains("tokenizer.tokens"), tokens.err());
    CliRun pad = run("pad", Fixtures.B, "tokenizer: {pad_to_multiple_of: 0}\n");
    assertEquals(2, pad.exitCode());
    assertTrue(pad.err().contains("pad_to_multiple_of"), pad.err());
  }

  private Path merge(String name, Path second, String extra) throws Exception {
    CliRun run = run(name, second, extra);
    assertEquals(0, run.exitCode(), run.err());
    return dir.resolve(name).resolve("out");
  }

  private CliRun run(String name, Path second, String extra) throws Exception {
    Path folder = Files.createDirectories(dir.resolve(name));
    Path config = TestModels.config(folder, "models:\n  - model: " + TestModels.abs(Fixtures.A)
        + "\n    parameters: {weight: 0.5}\n  - model: " + TestModels.abs(second)
        + "\n    parameters: {weight: 0.5}\nmerge_method: linear\ndtype: bfloat16\n" + extra);
    return CliRun.of("merge", config.toString(), folder.resolve("out").toString(), "--device", "cpu");
  }

  /** Model b with one more token, `<tool_call>` (id 465), and an embedding row for it (both matrices padded). */
  private static Path withToolCall(Path target) throws Exception {
    Path b = TestModels.derive(Fixtures.B, target, tensors -> {
      for (String name : new String[] {EMBED, "lm_head.weight"}) {
        HostTensor t = tensors.get(name);
        long cols = t.shape()[1];
        ByteBuffer data = ByteBuffer.allocate((int) (466 * cols * 2)).order(ByteOrder.LITTLE_ENDIAN);
        data.put(t.data().duplicate());
        for (int c = 0; c < cols; c++) {
          data.putShort((short) 0x3f80);  // bf16 1.0
        }
        tensors.put(name, new HostTensor(name, t.dtype(), new long[] {466, cols}, data.flip()));
      }
    }, config -> config.put("vocab_size", 466));
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizer = (ObjectNode) json.readTree(b.resolve("tokenizer.json").toFile());
    tokenizer.withArray("added_tokens").addObject().put("id", 465).put("content", "<tool_call>")
        .put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false)
        .put("special", true);
    Files.writeString(b.resolve("tokenizer.json"), json.writeValueAsString(tokenizer));
    return b;
  }

  private static float[] row(HostTensor t, int id) {
    int cols = (int) t.shape()[1];
    float[] out = new float[cols];
    ByteBuffer data = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < cols; c++) {
      out[c] = Float.intBitsToFloat((data.getShort((id * cols + c) * 2) & 0xffff) << 16);
    }
    return out;
  }
}
