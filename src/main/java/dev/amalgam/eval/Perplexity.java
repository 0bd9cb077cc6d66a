package dev.amalgam.eval;

import dev.amalgam.generate.LanguageModel;
import java.util.Arrays;
import java.util.List;

/**
 * Perplexity over texts, as evaluation harnesses measure it: each text tokenized, then windows of {@code context}
 * tokens every {@code stride} tokens, each scoring only the tokens the previous window did not (the first token of a
 * text is never scored). The result is the mean NLL per scored token (natural log) and its exponential.
 */
public final class Perplexity {
  /** The mean NLL over {@code tokens} scored tokens, its perplexity, and the time it took. */
  public record Result(long tokens, double meanNll, double perplexity, double seconds) {}

  private Perplexity() {}

  public static Result measure(LanguageModel model, List<String> texts, int context, int stride) {
    if (context < 2 || stride < 1 || stride > context) {
      throw new IllegalArgumentException("context " + context + " and stride " + stride);
    }
    long start = System.nanoTime();
    double total = 0;
    long scored = 0;
    for (String text : texts) {
      int[] ids = model.encode(text);
      int previousEnd = 0;
      for (int begin = 0; begin < ids.length; begin += stride) {
        int end = Math.min(begin + context, ids.length);
        int[] window = Arrays.copyOfRange(ids, begin, end);
        double[] nll = model.tokenNll(window);
        // nll[j - 1] scores window[j]; only the tokens past the previous window's end count.
        for (int j = Math.max(1, previousEnd - begin); j < window.length; j++) {
          total += nll[j - 1];
          scored++;
        }
        previousEnd = end;
        if (end == ids.length) {
          break;
        }
      }
    }
    double mean = scored == 0 ? Double.NaN : total / scored;
    return new Result(scored, mean, Math.exp(mean), (System.nanoTime() - start) / 1e9);
  }
}
