package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.cli.CliRun;
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
 * Models whose embedding matrices differ in rows: padded to different sizes (merged over the rows they share, as
 * mergekit does, after checking that only padding is cut), or with different vocabularies (refused before anything
 * is written, naming the models).
 */
class EmbeddingRowsTest {
  /** The tiny models' 465 rows, padded to 480. */
  private static final int PADDED = 480;

  @TempDir Path dir;

  @Test
  void paddedVocabulariesMergeOverTheirCommonRows() throws Exception {
    Path padded = padded(Fixtures.B, dir.resolve("b-padded"));
    Path out = dir.resolve("out");
    CliRun run = merge(padded, out);
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().contains("the first 465 rows are merged"), run.err());
    Path plain = dir.resolve("plain");
    assertEquals(0, merge(Fixtures.B, plain).exitCode());
    Map<String, HostTensor> ours = TestModels.load(out);
    Map<String, HostTensor> expected = TestModels.load(plain);
    assertArrayEquals(new long[] {465, 128}, ours.get("model.embed_tokens.weight").shape());
    expected.forEach((name, t) -> assertEquals(t.data(), ours.get(name).data(), name));
    JsonNode config = new ObjectMapper().readTree(Files.readString(out.resolve("config.json")));
    assertEquals(465, config.get("vocab_size").asInt());
  }

  @Test
  void tokensBeyondTheCommonRowsAreRefused() throws Exception {
    Path padded = padded(Fixtures.B, dir.resolve("b-more-tokens"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode tokenizer = (ObjectNode) json.readTree(padded.resolve("tokenizer.json").toFile());
    tokenizer.withArray("added_tokens").addObject().put("id", 470).put("content", "<tool_call>").put("special", true);
    Files.writeString(padded.resolve("tokenizer.json"), json.writeValueAsString(tokenizer));
    Path out = dir.resolve("out");
    CliRun run = merge(padded, out);
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("models[1]") && run.err().contains("ids up to 470"), run.err());
    assertFalse(run.err().contains("\tat "), run.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void differentTokensBelowTheCommonRowsAreReported() throws Exception {
    Path padded = padded(Fixtures.B, dir.resolve("b-renamed"));
    String text = Files.readString(padded.resolve("tokenizer.json")).replace("<|im_end|>", "<|end|>");
    Files.writeString(padded.resolve("tokenizer.json"), text);
    CliRun run = merge(padded, dir.resolve("out"));
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().contains("have different tokenizers"), run.err());
  }

  private CliRun merge(Path second, Path out) throws Exception {
    Path config = TestModels.config(Files.createDirectories(dir.resolve("config-" + out.getFileName())),
        "models:\n  - model: " + TestModels.abs(Fixtures.A) + "\n    parameters: {weight: 0.3}\n  - model: "
            + TestModels.abs(second) + "\n    parameters: {weight: 0.7}\nmerge_method: linear\ndtype: bfloat16\n");
    return CliRun.of("merge", config.toString(), out.toString(), "--device", "cpu");
  }

  /** {@code source} with its embedding matrices padded with rows of zeros, and config.json to match. */
  private static Path padded(Path source, Path target) throws Exception {
    return TestModels.derive(source, target, tensors -> {
      for (String name : new String[] {"model.embed_tokens.weight", "lm_head.weight"}) {
        HostTensor t = tensors.get(name);
        if (t == null) {
          continue;
        }
        long cols = t.shape()[1];
        ByteBuffer data = ByteBuffer.allocate((int) (PADDED * cols * t.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        data.put(t.data().duplicate()).rewind();
        tensors.put(name, new HostTensor(name, t.dtype(), new long[] {PADDED, cols}, data));
      }
    }, config -> config.put("vocab_size", PADDED));
  }
}
