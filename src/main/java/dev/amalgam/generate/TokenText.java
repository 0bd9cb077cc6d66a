package dev.amalgam.generate;

/**
 * Turns generated token ids into text incrementally (the tokenizer's streaming decoder), so that stop strings
 * can be checked and text streamed while generating.
 */
public interface TokenText {

  /** Adds one token; returns the text it completes (may be empty while a UTF-8 character is unfinished). */
  String accept(int id);

  /** Returns any text still held back, once generation has ended. */
  String flush();
}
