package dev.amalgam.merge;

/** How a merge rounds: once at the end (amalgam's default), or after every operation as mergekit does. */
public enum Arithmetic {
  /** Every element computed in float32 and rounded once to the output dtype. */
  EXACT,
  /**
   * mergekit's arithmetic: inputs cast to the work dtype (the config's {@code dtype}, else the inputs'), and each
   * operation's float32 result rounded to it, as torch does in bfloat16 or float16 (sums accumulate in float32 and
   * round once). With a float32 work dtype it is {@link #EXACT}.
   */
  MERGEKIT
}
