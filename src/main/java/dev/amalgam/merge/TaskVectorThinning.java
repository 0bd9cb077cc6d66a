package dev.amalgam.merge;

import java.nio.ByteBuffer;

/**
 * One worker's view of how a tensor's task vectors are thinned ({@link Sparsification}): element e of input m
 * becomes {@code (δ·kept)·scale}, where {@code kept} is 1 or 0 (multiplied, not zeroed, so a dropped element's
 * zero keeps its sign, as in torch) and {@code scale} is the input's L1 rescale factor. Magnitude kinds keep
 * by the tensor's {@link MagnitudeThresholds.Cuts}; random kinds read the {@link KeepMask} the rescale pass drew,
 * or draw from {@link KeepDraws} themselves.
 */
final class TaskVectorThinning {
  private final Sparsification sparsification;
  private final TensorStatistics statistics;
  private final KeepDraws[] draws;
  private final RankedProbabilities[] ranked;
  private final float[] probabilities;

  TaskVectorThinning(PlannedTensor tensor, ByteBuffer[] inputs, TensorStatistics statistics) {
    this.sparsification = tensor.sparsification();
    this.statistics = statistics;
    int n = inputs.length;
    this.draws = new KeepDraws[n];
    this.ranked = new RankedProbabilities[n];
    this.probabilities = new float[n];
    for (int m = 1; m < n; m++) {
      if (!sparsification.thins(m) || !sparsification.kind().random()) {
        continue;
      }
      draws[m] = new KeepDraws(sparsification.seed(), tensor.name(), m);
      probabilities[m] = (float) sparsification.densities()[m];
      if (sparsification.kind() == Sparsification.Kind.RANKED_RANDOM) {
        ranked[m] = new RankedProbabilities(TaskVectorView.of(tensor, inputs, m), tensor.shape(),
            sparsification.densities()[m], sparsification.epsilons()[m]);
      }
    }
  }

  /**
   * Thins elements {@code [start, start + n)} of input {@code m}'s task vector in place:
   * {@code deltas[i] = (deltas[i]·kept)·scale}. One dispatch per block, then a plain loop.
   */
  void thin(int m, long start, float[] deltas, int n) {
    float scale = statistics.scales()[m];
    if (!sparsification.thins(m)) {
      for (int i = 0; i < n; i++) {
        deltas[i] = deltas[i] * 1f * scale;
      }
    } else if (statistics.keepMasks()[m] != null) {
      statistics.keepMasks()[m].apply(start, deltas, n, scale);
    } else if (sparsification.kind().byMagnitude()) {
      int keepFrom = statistics.cuts().keepFrom()[m];
      int keepTo = statistics.cuts().keepTo()[m];
      for (int i = 0; i < n; i++) {
        // keepFrom ≤ bits ≤ keepTo without branches (half the elements go each way): ~d >>> 31 is 1 for d ≥ 0.
        int bits = Float.floatToRawIntBits(deltas[i]) & 0x7FFF_FFFF;
        int kept = (~(bits - keepFrom) >>> 31) & (~(keepTo - bits) >>> 31);
        deltas[i] = deltas[i] * kept * scale;
      }
    } else {
      for (int i = 0; i < n; i++) {
        deltas[i] = deltas[i] * (kept(m, start + i, deltas[i]) ? 1f : 0f) * scale;
      }
    }
  }

  /** Whether element {@code e} of input {@code m}'s task vector survives. */
  boolean kept(int m, long e, float delta) {
    if (!sparsification.thins(m)) {
      return true;
    }
    if (sparsification.kind().byMagnitude()) {
      int bits = Float.floatToRawIntBits(delta) & 0x7FFF_FFFF;
      return bits >= statistics.cuts().keepFrom()[m] && bits <= statistics.cuts().keepTo()[m];
    }
    return draws[m].kept(e, ranked[m] == null ? probabilities[m] : ranked[m].probability(e));
  }
}
