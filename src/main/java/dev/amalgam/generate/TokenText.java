package dev.amalgam.generate;

/**
 * Turns generated token ids into text incrementally (the tokenizer's streaming decoder), so that stop strings
 * can be checked and text streamed while generating.
 */
public interface TokenText {
  /** For ids without text worth decoding (benchmarks, golden tests): no stop string can match. */
  TokenText NONE = new TokenText() {
    @Override
    public String accept(int id) {
      return "";
    }

    @Override
    public String flush() {
      return "";
    }
  };

  /** Adds one token; returns the text it completes (may be empty while a UTF-8 character is unfinished). */
  String accept(int id);

  /** Returns any text still held back, once generation has ended. */
  String flush();
}
