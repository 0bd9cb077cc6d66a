package dev.amalgam.tokenizer;

import java.util.Arrays;

/**
 * Turns generated token ids, one at a time, into text as soon as the text is final.
 *
 * <p>Two things make naive per-token decoding wrong. Byte-level BPE tokens can end in the middle of a UTF-8
 * character (an emoji is often 2-4 tokens), so a lone token decodes to U+FFFD; and some decoders (e.g.
 * SentencePiece's Metaspace) drop a leading space when a token is decoded on its own. So, like
 * text-generation-inference, this decodes a short window that starts at the previous emitted boundary,
 * emits only the new suffix, and holds text back while it still ends in U+FFFD (an unfinished character).
 */
public final class StreamingDecoder {
  private final HfTokenizer tokenizer;
  private int[] ids = new int[64];
  private int size;
  /** Start of the window decoded for context (the token(s) before the last emitted boundary). */
  private int prefixOffset;
  /** End of the text already emitted, in tokens. */
  private int readOffset;

  StreamingDecoder(HfTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /** Adds one token id; returns the text it completes (often empty while a character is unfinished). */
  public String accept(int id) {
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, size * 2);
    }
    ids[size++] = id;
    String prefixText = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset));
    String newText = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, size));
    if (newText.length() > prefixText.length() && !newText.endsWith("\uFFFD")) {
      prefixOffset = readOffset;
      readOffset = size;
      return newText.substring(prefixText.length());
    }
    return "";
  }

  /**
   * Returns whatever is still held back (for example a character that never completed, as U+FFFD) and
   * marks it emitted. Call once generation has stopped.
   */
  public String flush() {
    if (readOffset == size) {
      return "";
    }
    String prefixText = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset));
    String newText = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, size));
    prefixOffset = readOffset;
    readOffset = size;
    return newText.startsWith(prefixText) ? newText.substring(prefixText.length()) : newText;
  }

  /** All ids accepted so far. */
  public int[] ids() {
    return Arrays.copyOf(ids, size);
  }
}
