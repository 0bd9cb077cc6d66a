package dev.amalgam.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Where every fixture the tests read lives (tests run from the repository root): the tiny demo checkpoints in
 * {@code examples/}, their variants and the goldens in {@code src/test/resources}, and the reference tokenizers
 * with their golden outputs, copied from the oracle.
 */
public final class Fixtures {
  /** The two fine-tunes of one base, and their exact 0.3/0.7 linear merge: the bundled demo models. */
  public static final Path A = example("qwen2-tiny-a");
  public static final Path B = example("qwen2-tiny-b");
  public static final Path MERGED = example("qwen2-tiny-merged-linear");
  public static final Path A_FP32 = Path.of("src/test/resources/fixtures/qwen2-tiny-a-fp32");
  public static final Path B_SHARDED = Path.of("src/test/resources/fixtures/qwen2-tiny-b-sharded");
  /** A synthetic base of A and B, and a third fine-tune of it: the inputs of the mergekit oracle's cases. */
  public static final Path BASE = Path.of("src/test/resources/fixtures/qwen2-tiny-base");
  public static final Path C = Path.of("src/test/resources/fixtures/qwen2-tiny-c");
  /** Cases of mergekit's own output on those models (../shared/fixtures/mergekit-oracle, its README). */
  public static final Path MERGEKIT_ORACLE = Path.of("src/test/resources/mergekit-oracle");
  /** The same merge computed in bf16 after every operation, as mergekit computes it. */
  public static final Path MERGED_BF16_ARITH =
      Path.of("src/test/resources/fixtures/qwen2-tiny-merged-linear-bf16arith.safetensors");

  private static Path qwen3;

  private Fixtures() {}

  private static Path example(String name) {
    Path dir = Path.of("examples", name);
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(dir.toAbsolutePath() + " is missing; run the tests from the repository root");
    }
    return dir;
  }

  /** A fixture under the test resources' {@code dev/amalgam/fixtures}: tokenizers and their goldens. */
  public static Path dir(String name) {
    return resource("/dev/amalgam/fixtures/" + name);
  }

  public static Path tinyTokenizer() {
    return dir("tiny-tokenizer");
  }

  /**
   * The real Qwen3 tokenizer. Its 11 MB tokenizer.json is stored gzipped (everything tracked travels to the
   * GPU test machine, under a size limit), so it is unpacked once per test run into a temporary folder.
   */
  public static synchronized Path qwen3Tokenizer() {
    if (qwen3 == null) {
      try {
        Path packed = dir("qwen3-tokenizer");
        Path folder = Files.createTempDirectory("amalgam-qwen3-tokenizer");
        folder.toFile().deleteOnExit();
        Files.copy(packed.resolve("tokenizer_config.json"), folder.resolve("tokenizer_config.json"));
        try (InputStream in = new GZIPInputStream(Files.newInputStream(packed.resolve("tokenizer.json.gz")))) {
          Files.copy(in, folder.resolve("tokenizer.json"));
        }
        folder.resolve("tokenizer_config.json").toFile().deleteOnExit();
        folder.resolve("tokenizer.json").toFile().deleteOnExit();
        qwen3 = folder;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return qwen3;
  }

  /** transformers' greedy runs of the demo models: how many leading tokens its own bf16 run agrees on, and the texts. */
  public static JsonNode generationGolden() {
    try {
      return new ObjectMapper().readTree(resource("/golden/qwen2-tiny-golden.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** transformers' prompt logits and greedy tokens for the demo model {@code a}, {@code b} or {@code merged}. */
  public static Path generationGoldenTensors(String model) {
    return resource("/golden/qwen2-tiny-golden-" + model + ".safetensors");
  }

  private static Path resource(String name) {
    try {
      return Path.of(Fixtures.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code tiny-tokenizer-golden.json} or {@code qwen3-tokenizer-golden.json}. */
  public static JsonNode golden(String tokenizerName) {
    try {
      return new ObjectMapper().readTree(dir(tokenizerName + "-golden.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static int[] ids(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).intValue();
    }
    return out;
  }
}
