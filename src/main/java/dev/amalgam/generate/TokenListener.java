package dev.amalgam.generate;

/** Told about each generated token as soon as it is sampled, for streaming output. */
@FunctionalInterface
public interface TokenListener {
  TokenListener NONE = (id, text) -> {};

  /** {@code text} is the newly final text (possibly empty; never part of a stop string). */
  void onToken(int id, String text);

  /** Called once at the end with text held back until then (a partial stop string or character); may be empty. */
  default void onEnd(String remainingText) {}

  /** Asked at each token: true ends the sequence there (its reader is gone), and frees its slot. */
  default boolean cancelled() {
    return false;
  }
}
