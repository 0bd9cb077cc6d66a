package dev.amalgam.merge;

/**
 * How the methods of mergekit's second family merge a tensor from statistics of the tensor itself, where a fixed
 * weight per input does not say it (null in {@link PlannedTensor} for the linear and task-vector families):
 * <ul>
 *   <li>{@link Combination}: a weighted sum whose weights come from the inputs' Gram matrix, per tensor, per row or
 *       per column (slerp, nuslerp, multislerp, karcher, model_stock);
 *   <li>{@link NearSwap}: nearswap's element op over the base and one model;
 *   <li>{@link Fusion}: arcee_fusion's, a model's changes kept where their importance clears a threshold.
 * </ul>
 */
sealed interface TensorRule {

  /** Which elements share one set of weights: all, each row (the last dimension), or each column (dimension 0). */
  enum Segments {
    TENSOR, ROWS, COLUMNS;

    /** Elements from one segment to the next ({@link #ROWS}), or the number of segments ({@link #COLUMNS}). */
    long length(long[] shape) {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return switch (this) {
        case TENSOR -> Math.max(1, n);
        case ROWS -> shape.length == 0 ? 1 : Math.max(1, shape[shape.length - 1]);
        case COLUMNS -> shape.length <= 1 ? 1 : Math.max(1, n / shape[0]);
      };
    }

    /** How many segments a tensor of {@code n} elements has. */
    long count(long n, long length) {
      return switch (this) {
        case TENSOR -> 1;
        case ROWS -> Math.max(1, (n + length - 1) / length);
        case COLUMNS -> length;
      };
    }

    /** The segment of element {@code e}. */
    long of(long e, long length) {
      return switch (this) {
        case TENSOR -> 0;
        case ROWS -> e / length;
        case COLUMNS -> e % length;
      };
    }
  }

  /**
   * Weights that the Gram matrix of the combined vectors decides: the inputs themselves, or with
   * {@link PlannedTensor#taskVectors} their task vectors {@code xᵢ − base} (i ≥ 1), which are then added to the base.
   */
  record Combination(Segments segments, Coefficients coefficients) implements TensorRule {}

  /**
   * The weights of the combined vectors, in their order, from their Gram matrix {@code gram[i][j] = <vᵢ, vⱼ>}
   * (float64 sums of float32 products) over one segment.
   */
  @FunctionalInterface
  interface Coefficients {
    double[] of(double[][] gram);
  }

  /** nearswap with threshold {@code t}: {@code w = clamp(t / max(|base − x|, 1e-6), 0, 1)}, {@code w·x + (1 − w)·base}. */
  record NearSwap(float t) implements TensorRule {}

  /**
   * arcee_fusion: {@code base + Δ·[|Δ|·KL(row) ≥ median + 1.5·IQR]}, where Δ = x − base and KL(row) is that of the
   * row's softmaxes of x and of base, the quantiles taken over the whole tensor's importances {@code |Δ|·KL}.
   */
  record Fusion() implements TensorRule {}
}
