package dev.amalgam.merge;

/**
 * The passes over one tensor's task vectors that {@link TensorStatistics} is built from, on the host ({@link
 * HostStatisticsPasses}, from the mapped inputs) or on the GPU ({@link DeviceStatistics}, from the inputs in device
 * memory). Both sum in float64 in the same fixed order ({@link LaneSums} within a {@link TensorBlocks} block, and in
 * block order across them) and select by the same histograms, so their statistics are equal bit for bit.
 */
interface StatisticsPasses {
  /** The magnitude bit patterns of the task vectors of {@code inputs} (each ≥ 1), channel c for inputs[c]. */
  BitSelection magnitudes(int[] inputs);

  /** SCE's variance bit patterns across the task vectors, one channel ({@link TensorStatistics#selectByVariance}). */
  BitSelection variances();

  /**
   * Per entry of {@code inputs}: the L1 norm of that input's task vector, and of what its thinning keeps under
   * {@code unscaled} (cuts found, no scales yet), with the keep mask where it was drawn here (else null).
   */
  Norms[] l1(int[] inputs, TensorStatistics unscaled);

  /**
   * Per input (index 0, the base, unused): the sum of squares of its task vector where SCE's selection at
   * {@code varianceCut} keeps the element.
   */
  double[] selectedSquares(int varianceCut);

  /** One task vector's L1 norms before and after thinning, and its random keep mask (or null). */
  record Norms(double before, double after, KeepMask kept) {}
}
