package dev.amalgam.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** The reference tokenizers and their golden outputs, copied from the oracle into test resources. */
public final class Fixtures {
  private static Path qwen3;

  private Fixtures() {}

  public static Path dir(String name) {
    try {
      return Path.of(Fixtures.class.getResource("/dev/amalgam/fixtures/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
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
