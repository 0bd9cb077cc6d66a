package dev.amalgam.backend;

/**
 * How {@link Backend#sample} picks a token from one row of logits. Every backend applies the steps in this
 * order, which is the order of Hugging Face {@code generate()}:
 *
 * <ol>
 *   <li><b>repetition penalty</b> ({@code repetitionPenalty != 1}): for every distinct token id in the row's
 *       history, a logit {@code > 0} is divided by the penalty and a logit {@code <= 0} is multiplied by it;
 *   <li><b>greedy</b> ({@code temperature == 0}): return the arg-max, the lowest id among equal maxima; the
 *       remaining steps and the uniform draw are then ignored;
 *   <li><b>temperature</b>: divide every logit by {@code temperature};
 *   <li><b>top-k</b> ({@code topK > 0}): drop tokens whose logit is below the k-th largest (ties with the
 *       k-th are kept);
 *   <li><b>top-p</b> ({@code topP < 1}): with p = softmax of the kept logits, keep the smallest set of most
 *       probable tokens whose total probability is {@code >= topP} (always at least one);
 *   <li><b>min-p</b> ({@code minP > 0}): with p = softmax of the kept logits, drop tokens with
 *       {@code p < minP * max(p)};
 *   <li><b>draw</b>: with p = softmax of the kept logits, walk the kept tokens in ascending id order and return
 *       the first whose cumulative probability exceeds {@code uniform * total} (the last kept token if
 *       rounding leaves none).
 * </ol>
 *
 * The uniform number comes from the caller's seeded generator, so that the same seed gives the same tokens
 * on every backend up to floating-point differences in the logits.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty) {

  public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f);
  /**
   * Below this, logits divided by the temperature overflow float32 (a logit of 40 over 1e-37 already does), and
   * the draw is the arg-max anyway: use 0.
   */
  public static final float MIN_TEMPERATURE = 1e-6f;
  /** Above this every token is about equally likely: noise, not sampling. */
  public static final float MAX_TEMPERATURE = 100f;

  public SamplingParams {
    check(temperature == 0 || (temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE),
        "temperature must be 0 (greedy) or from " + MIN_TEMPERATURE + " to " + MAX_TEMPERATURE + ", got " + temperature);
    check(topK >= 0, "top-k must be >= 0 (0 disables it), got " + topK);
    check(topP > 0 && topP <= 1, "top-p must be in (0, 1], got " + topP);
    check(minP >= 0 && minP < 1, "min-p must be in [0, 1), got " + minP);
    check(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty),
        "repetition penalty must be > 0, got " + repetitionPenalty);
  }

  public boolean greedy() {
    return temperature == 0f;
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new dev.amalgam.UserError(message);
    }
  }
}
