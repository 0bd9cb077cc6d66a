package dev.amalgam.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

  /** Feeds ids one by one; returns the chunks emitted (flush last). */
  private static List<String> stream(HfTokenizer tokenizer, int[] ids) {
    StreamingDecoder decoder = tokenizer.streamingDecoder();
    List<String> chunks = new ArrayList<>();
    for (int id : ids) {
      chunks.add(decoder.accept(id));
    }
    chunks.add(decoder.flush());
    return chunks;
  }

  @Test
  void multiByteCharactersAreNeverSplit() {
    try (HfTokenizer qwen3 = HfTokenizer.load(Fixtures.qwen3Tokenizer())) {
      String text = "emoji 🤖🔥 and ZWJ 👩‍💻, 中文测试，混合 English 文本。 naïve — déjà vu";
      int[] ids = qwen3.encode(text);
      // The premise of the test: some single tokens really are partial characters.
      boolean someTokenIsPartial = false;
      for (int id : ids) {
        someTokenIsPartial |= qwen3.decode(new int[] {id}).contains("\uFFFD");
      }
      assertTrue(someTokenIsPartial, "the text should contain tokens that split a UTF-8 character");

      List<String> chunks = stream(qwen3, ids);
      StringBuilder joined = new StringBuilder();
      for (String chunk : chunks) {
        assertFalse(chunk.contains("\uFFFD"), "chunk with a broken character: " + chunk);
        joined.append(chunk);
      }
      assertEquals(text, joined.toString());
      assertEquals("", chunks.get(chunks.size() - 1), "nothing left over for flush");
    }
  }

  @Test
  void emitsPlainTextTokenByToken() {
    try (HfTokenizer qwen3 = HfTokenizer.load(Fixtures.qwen3Tokenizer())) {
      List<String> chunks = stream(qwen3, new int[] {9707, 1879});
      assertEquals(List.of("Hello", " world", ""), chunks);
    }
  }

  @Test
  void holdsAnEmojiUntilItsLastByteArrives() {
    try (HfTokenizer qwen3 = HfTokenizer.load(Fixtures.qwen3Tokenizer())) {
      // "🤖" is 11162, 97, 244 in the Qwen vocabulary (from the golden encodings).
      List<String> chunks = stream(qwen3, new int[] {37523, 11162, 97, 244});
      assertEquals(List.of("emoji", "", "", " 🤖", ""), chunks);
    }
  }

  @Test
  void flushReleasesAnUnfinishedCharacter() {
    try (HfTokenizer qwen3 = HfTokenizer.load(Fixtures.qwen3Tokenizer())) {
      StreamingDecoder decoder = qwen3.streamingDecoder();
      assertEquals("emoji", decoder.accept(37523));
      assertEquals("", decoder.accept(11162));
      assertEquals(" \uFFFD", decoder.flush());
      assertEquals("", decoder.flush());
    }
  }
}
