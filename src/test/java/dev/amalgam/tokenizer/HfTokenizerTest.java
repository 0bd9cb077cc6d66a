package dev.amalgam.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.UserError;
import dev.amalgam.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {
  private static HfTokenizer tiny;
  private static HfTokenizer qwen3;

  @BeforeAll
  static void load() {
    tiny = HfTokenizer.load(Fixtures.tinyTokenizer());
    qwen3 = HfTokenizer.load(Fixtures.qwen3Tokenizer());
  }

  @AfterAll
  static void close() {
    tiny.close();
    qwen3.close();
  }

  @TestFactory
  List<DynamicTest> tinyGoldenEncodings() {
    return goldenEncodings("tiny-tokenizer", tiny);
  }

  @TestFactory
  List<DynamicTest> qwen3GoldenEncodings() {
    return goldenEncodings("qwen3-tokenizer", qwen3);
  }

  private static List<DynamicTest> goldenEncodings(String name, HfTokenizer tokenizer) {
    List<DynamicTest> tests = new ArrayList<>();
    JsonNode encodings = Fixtures.golden(name).get("encodings");
    assertTrue(encodings.size() > 10, "golden file has encodings");
    for (JsonNode e : encodings) {
      String text = e.get("text").textValue();
      String label = name + " " + (text.length() > 30 ? text.substring(0, 30) + "..." : text);
      tests.add(DynamicTest.dynamicTest(label, () -> {
        int[] expected = Fixtures.ids(e.get("ids"));
        assertArrayEquals(expected, tokenizer.encode(text), "ids of " + text);
        assertEquals(e.get("decoded").textValue(), tokenizer.decode(expected), "decoded text");
      }));
    }
    return tests;
  }

  @Test
  void specialTokensInTextAreSingleIds() {
    assertArrayEquals(new int[] {151644, 872, 198, 6023, 151645}, qwen3.encode("<|im_start|>user\nhi<|im_end|>"));
    assertArrayEquals(new int[] {463}, tiny.encode("<|im_start|>"));
  }

  @Test
  void longTextIsNeitherTruncatedNorPadded() {
    String text = "word ".repeat(20_000);
    int[] ids = qwen3.encode(text);
    assertTrue(ids.length >= 10_000, "got " + ids.length + " ids");
    assertEquals(text, qwen3.decode(ids));
    assertArrayEquals(new int[0], qwen3.encode(""));
  }

  @Test
  void tokenIdsOfSpecialAndPlainTokens() {
    assertEquals(OptionalInt.of(151645), qwen3.tokenId("<|im_end|>"));
    assertEquals(OptionalInt.of(151643), qwen3.tokenId("<|endoftext|>"));
    assertEquals(OptionalInt.of(464), tiny.tokenId("<|im_end|>"));
    assertEquals(OptionalInt.of(9707), qwen3.tokenId("Hello"));
    assertEquals(OptionalInt.empty(), qwen3.tokenId("Hello world"));
    assertEquals(OptionalInt.empty(), qwen3.tokenId(""));
  }

  @Test
  void bosAndEosFromConfig() {
    assertEquals("<|im_end|>", qwen3.eosToken());
    assertNull(qwen3.bosToken(), "Qwen3 has bos_token: null");
    assertEquals("<|im_end|>", tiny.eosToken());
    assertNull(tiny.bosToken(), "tiny config has no bos_token key");
    assertEquals(OptionalInt.of(151645), qwen3.eosTokenId());
  }

  @Test
  void specialTokensAsAddedTokenObjects(@TempDir Path dir) throws IOException {
    Files.copy(Fixtures.tinyTokenizer().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"bos_token\": {\"content\": \"<|endoftext|>\", \"lstrip\": false}, \"eos_token\": \"<|im_end|>\"}");
    try (HfTokenizer t = HfTokenizer.load(dir)) {
      assertEquals("<|endoftext|>", t.bosToken());
      assertEquals("<|im_end|>", t.eosToken());
    }
  }

  @Test
  void missingTokenizerJsonIsUserErrorNamingTheFile(@TempDir Path dir) {
    UserError e = assertThrows(UserError.class, () -> HfTokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }

  @Test
  void corruptTokenizerJsonIsUserErrorNamingTheFile(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
    UserError e = assertThrows(UserError.class, () -> HfTokenizer.load(dir));
    assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
  }

  @Test
  void corruptTokenizerConfigIsUserError(@TempDir Path dir) throws IOException {
    Files.copy(Fixtures.tinyTokenizer().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{not json");
    UserError e = assertThrows(UserError.class, () -> HfTokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
  }
}
