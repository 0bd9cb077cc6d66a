package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.backend.SamplingParams;
import java.util.List;

/**
 * What the user asked of one generation.
 *
 * @param maxNewTokens how many tokens to generate at most
 * @param maxContext prompt plus generated tokens at most; 0 means min(model limit, {@link #DEFAULT_CONTEXT})
 * @param stopStrings generation stops when the text contains one; the text returned ends before it
 */
public record GenerationSettings(int maxNewTokens, SamplingParams sampling, long seed, List<String> stopStrings,
    int maxContext) {
  public static final int DEFAULT_CONTEXT = 4096;

  public GenerationSettings {
    if (maxNewTokens < 1) {
      throw new UserError("max new tokens must be at least 1, got " + maxNewTokens);
    }
    if (maxContext < 0) {
      throw new UserError("max context must be positive, got " + maxContext);
    }
    if (stopStrings.stream().anyMatch(String::isEmpty)) {
      throw new UserError("a stop string must not be empty");
    }
    stopStrings = List.copyOf(stopStrings);
  }

  public static GenerationSettings greedy(int maxNewTokens) {
    return new GenerationSettings(maxNewTokens, SamplingParams.GREEDY, 0, List.of(), 0);
  }

  public GenerationSettings withMaxNewTokens(int n) {
    return new GenerationSettings(n, sampling, seed, stopStrings, maxContext);
  }

  public GenerationSettings withSeed(long newSeed) {
    return new GenerationSettings(maxNewTokens, sampling, newSeed, stopStrings, maxContext);
  }

  /** The context to use for a model that can attend over {@code modelLimit} positions. */
  public int contextFor(int modelLimit) {
    if (maxContext == 0) {
      return Math.min(modelLimit, DEFAULT_CONTEXT);
    }
    if (maxContext > modelLimit) {
      throw new UserError("max context " + maxContext + " exceeds the model's limit of " + modelLimit + " positions");
    }
    return maxContext;
  }
}
