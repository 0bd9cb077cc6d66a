package dev.amalgam.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The reference tokenizers and their golden outputs, copied from the oracle into test resources. */
public final class Fixtures {
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

  public static Path qwen3Tokenizer() {
    return dir("qwen3-tokenizer");
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
