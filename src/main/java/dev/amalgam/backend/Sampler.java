package dev.amalgam.backend;

import java.util.Arrays;

/**
 * The reference implementation of {@link SamplingParams}: picks one token from a row of logits, step by step
 * as that record's javadoc specifies. The CPU backend uses it directly; a device backend must agree with it.
 */
public final class Sampler {
  private Sampler() {}

  /**
   * Picks a token. {@code logits} is modified in place (penalized, scaled, filtered).
   *
   * @param history token ids seen so far, for the repetition penalty
   * @param uniform a number in [0, 1) from the caller's seeded generator
   */
  public static int pick(float[] logits, SamplingParams params, int[] history, double uniform) {
    applyRepetitionPenalty(logits, history, params.repetitionPenalty());
    if (params.greedy()) {
      return argmax(logits);
    }
    for (int i = 0; i < logits.length; i++) {
      logits[i] /= params.temperature();
    }
    if (params.topK() > 0 && params.topK() < logits.length) {
      keepTopK(logits, params.topK());
    }
    if (params.topP() < 1f) {
      keepTopP(logits, params.topP());
    }
    if (params.minP() > 0f) {
      keepMinP(logits, params.minP());
    }
    int chosen = draw(softmax(logits), uniform);
    // No token left with p > 0 (all filtered, or NaN logits): the arg-max, so the id is always a real one.
    return chosen >= 0 ? chosen : argmax(logits);
  }

  /** Whether every logit is a number, neither NaN nor infinite; a backend reports a row that is not. */
  public static boolean allFinite(float[] logits) {
    for (float l : logits) {
      if (!Float.isFinite(l)) {
        return false;
      }
    }
    return true;
  }

  /** As HF's RepetitionPenaltyLogitsProcessor: each distinct seen token once, sign-aware. */
  static void applyRepetitionPenalty(float[] logits, int[] history, float penalty) {
    if (penalty == 1f) {
      return;
    }
    boolean[] done = new boolean[logits.length];
    for (int id : history) {
      if (id >= 0 && id < logits.length && !done[id]) {
        done[id] = true;
        logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
      }
    }
  }

  /** The lowest id among equal maxima, as torch.argmax. */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  private static void keepTopK(float[] logits, int k) {
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float threshold = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < threshold) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /** Keeps the most probable tokens until their total reaches {@code p}: a token stays if those above it sum below p. */
  private static void keepTopP(float[] logits, float p) {
    double[] probs = softmax(logits);
    Integer[] order = new Integer[logits.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
    double above = 0;
    for (int rank = 0; rank < order.length; rank++) {
      int id = order[rank];
      if (rank > 0 && above >= p) {
        logits[id] = Float.NEGATIVE_INFINITY;
      }
      above += probs[id];
    }
  }

  private static void keepMinP(float[] logits, float minP) {
    double[] probs = softmax(logits);
    double max = Arrays.stream(probs).max().orElse(0);
    for (int i = 0; i < logits.length; i++) {
      if (probs[i] < minP * max) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /** Softmax in double; filtered (-inf) tokens get probability 0. */
  static double[] softmax(float[] logits) {
    float max = Float.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] probs = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probs[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
    return probs;
  }

  private static int draw(double[] probs, double uniform) {
    double target = uniform;
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < probs.length; i++) {
      if (probs[i] > 0) {
        cumulative += probs[i];
        last = i;
        if (cumulative > target) {
          return i;
        }
      }
    }
    return last;
  }
}
