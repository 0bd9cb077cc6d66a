package dev.amalgam.generate;

import java.util.List;

/**
 * What a batched run produced, and where its time went. Prefill time covers each prompt's forward pass and the
 * sampling of its first token; decode time covers the steps that advance every live sequence by one token.
 *
 * @param results one per request, in request order
 * @param decodeTokens tokens produced by decode steps (a sequence's first token comes from its prefill)
 */
public record BatchResult(List<GenerationResult> results, long prefillTokens, double prefillSeconds,
    long decodeTokens, double decodeSeconds, int decodeSteps) {

  public double prefillTokensPerSecond() {
    return prefillSeconds > 0 ? prefillTokens / prefillSeconds : 0;
  }

  /** Aggregate decode throughput: tokens of all sequences together, per second of decode steps. */
  public double decodeTokensPerSecond() {
    return decodeSeconds > 0 ? decodeTokens / decodeSeconds : 0;
  }
}
