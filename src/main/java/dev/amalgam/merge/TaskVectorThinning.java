package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.Arrays;

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
  private float[] flags;

  TaskVectorThinning(PlannedTensor tensor, ByteBuffer[] inputs, TensorStatistics statistics) {
    this.sparsification = tensor.sparsification();
    this.statistics = statistics;
    int n = inputs.length;
    this.draws = new KeepDraws[n];
    this.ranked = new RankedProbabilities[n];
    this.probabilities = new float[n];
    for (int m = 1; m < n; m++) {
      // Where the rescale pass drew the mask, thin() reads it: no generator or row ranks to set up.
      if (!sparsification.thins(m) || !sparsification.kind().random() || statistics.keepMasks()[m] != null) {
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
   * {@code deltas[i] = (deltas[i]·kept)·scale}, kept read from the statistics' {@link KeepMask} where the rescale
   * pass drew one, else from {@link #keepFlags}. One dispatch per block, then plain loops.
   */
  void thin(int m, long start, float[] deltas, int n) {
    float scale = statistics.scales()[m];
    if (statistics.keepMasks()[m] != null) {
      statistics.keepMasks()[m].apply(start, deltas, n, scale);
      return;
    }
    keepFlags(m, start, deltas, n, flags(n));
    for (int i = 0; i < n; i++) {
      deltas[i] = deltas[i] * flags[i] * scale;
    }
  }

  /**
   * {@code kept[i]}: 1 where element {@code start + i} of input {@code m}'s task vector, {@code deltas[i]},
   * survives the thinning, else 0. Without branches where the outcome is a coin toss, so the loops do not stall
   * on mispredictions.
   */
  void keepFlags(int m, long start, float[] deltas, int n, float[] kept) {
    if (!sparsification.thins(m)) {
      Arrays.fill(kept, 0, n, 1f);
    } else if (sparsification.kind().byMagnitude()) {
      int keepFrom = statistics.cuts().keepFrom()[m];
      int keepTo = statistics.cuts().keepTo()[m];
      for (int i = 0; i < n; i++) {
        // keepFrom ≤ bits ≤ keepTo: ~d >>> 31 is 1 for d ≥ 0, and every value lies in [0, 2³¹).
        int bits = Float.floatToRawIntBits(deltas[i]) & 0x7FFF_FFFF;
        kept[i] = (~(bits - keepFrom) >>> 31) & (~(keepTo - bits) >>> 31);
      }
    } else {
      draws[m].uniforms(start, n, kept);
      if (ranked[m] == null) {
        float p = probabilities[m];
        for (int i = 0; i < n; i++) {
          kept[i] = Float.floatToRawIntBits(kept[i] - p) >>> 31;  // 1 where the uniform is below p
        }
      } else {
        ranked[m].keepBelow(start, n, kept);
      }
    }
  }

  private float[] flags(int n) {
    if (flags == null || flags.length < n) {
      flags = new float[n];
    }
    return flags;
  }
}
