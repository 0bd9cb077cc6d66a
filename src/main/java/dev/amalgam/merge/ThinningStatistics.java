package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The whole-tensor statistics a tensor's task vectors are thinned by, found in passes over the mapped inputs
 * before any chunk is merged: the magnitude cuts, and per input the L1 rescale factor
 * {@code L1(δ) / L1(kept δ)} (1 where nothing is rescaled, or where either norm is under 1e-7, as in mergekit).
 * The norms are summed in float64 in element order, so they are the same on every run and device.
 */
record ThinningStatistics(MagnitudeThresholds.Cuts cuts, float[] scales) {
  private static final double TINY_NORM = 1e-7;

  /** The statistics of a tensor with task vectors (all kept, unscaled, where it has no sparsification). */
  static ThinningStatistics of(PlannedTensor tensor, ByteBuffer[] inputs) {
    Sparsification sparsification = tensor.sparsification();
    float[] scales = new float[inputs.length];
    Arrays.fill(scales, 1f);
    MagnitudeThresholds.Cuts cuts = sparsification != null && sparsification.kind().byMagnitude()
        ? MagnitudeThresholds.of(tensor, inputs) : MagnitudeThresholds.Cuts.allKept(inputs.length);
    ThinningStatistics unscaled = new ThinningStatistics(cuts, scales.clone());
    if (sparsification == null || !sparsification.rescale()) {
      return unscaled;
    }
    TaskVectorThinning thinning = new TaskVectorThinning(tensor, inputs, unscaled);
    for (int m = 1; m < inputs.length; m++) {
      if (!sparsification.thins(m)) {
        continue;
      }
      TaskVectorView view = TaskVectorView.of(tensor, inputs, m);
      double before = 0;
      double after = 0;
      for (long e = 0, n = tensor.elementCount(); e < n; e++) {
        float delta = view.delta(e);
        before += Math.abs(delta);
        after += Math.abs(thinning.thinned(m, e, delta));
      }
      if (before >= TINY_NORM && after >= TINY_NORM) {
        scales[m] = (float) (before / after);
      }
    }
    return new ThinningStatistics(cuts, scales);
  }
}
