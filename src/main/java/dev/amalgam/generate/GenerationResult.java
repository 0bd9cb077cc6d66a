package dev.amalgam.generate;

/**
 * The outcome of one generation.
 *
 * @param tokens the generated ids, without the EOS token that ended them
 * @param text their text, up to (not including) a stop string
 * @param ttftMillis time from the start of prefill to the first sampled token
 * @param tokensPerSecond decode speed: tokens after the first, per second after the first (0 if only one)
 */
public record GenerationResult(int[] tokens, String text, int promptTokens, double ttftMillis,
    double tokensPerSecond, FinishReason finishReason) {

  public enum FinishReason {
    /** An end-of-sequence token was sampled. */
    EOS,
    /** A stop string appeared in the text. */
    STOP,
    /** max new tokens were generated. */
    MAX_TOKENS,
    /** The context is full. */
    CONTEXT,
    /** Its listener cancelled it (a client that went away). */
    CANCELLED
  }
}
