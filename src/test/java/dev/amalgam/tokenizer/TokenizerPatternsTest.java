package dev.amalgam.tokenizer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Nested repetitions are told from the patterns real tokenizers use. */
class TokenizerPatternsTest {
  @ParameterizedTest
  @ValueSource(strings = {
      // GPT-2, Qwen2/Qwen3 (the fixtures' tokenizers), Llama 3
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
          + "|\\s+(?!\\S)|\\s+",
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
          + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      "(ab){2,4}", "[(+]+", "\\(a+\\)+"})
  void realPatternsPass(String pattern) {
    assertFalse(TokenizerPatterns.nestsRepetition(pattern), pattern);
  }

  @ParameterizedTest
  @ValueSource(strings = {"(a+)+$", "(a*)*b", "((ab)+c)*", "(x|y+){3,}", "(?:\\s+\\S)+"})
  void nestedRepetitionsAreFound(String pattern) {
    assertTrue(TokenizerPatterns.nestsRepetition(pattern), pattern);
  }
}
