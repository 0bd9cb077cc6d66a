package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;

/**
 * The CPU element ops over a base (input 0) and one model (input 1) in float32, rounded once, as merge.cu computes
 * them: nearswap's ({@link TensorRule.NearSwap}) and arcee_fusion's ({@link TensorRule.Fusion}), in mergekit's
 * order of operations. One instance per thread; buffers are read and written by absolute index only.
 */
final class PairKernel {
  /** nearswap's floor on |base − x|, mergekit's. */
  static final float MIN_DISTANCE = 1e-6f;

  private final short[] halves = new short[LinearKernel.BLOCK];
  private final float[] base = new float[LinearKernel.BLOCK];
  private final float[] x = new float[LinearKernel.BLOCK];
  private final float[] result = new float[LinearKernel.BLOCK];
  private final short[] rounded = new short[LinearKernel.BLOCK];

  /**
   * Merges elements {@code [from, to)} into {@code out}, element {@code from} going to its start; with a
   * {@code rounding} dtype (null for none), in mergekit's arithmetic ({@link WorkRounding}).
   */
  void run(ByteBuffer[] inputs, DType[] inputTypes, TensorRule rule, RuleStatistics statistics, DType rounding,
      ByteBuffer out, DType outType, long from, long to) {
    boolean nearSwap = rule instanceof TensorRule.NearSwap;
    float parameter = statistics.parameter();
    for (long start = from; start < to; start += LinearKernel.BLOCK) {
      int n = (int) Math.min(LinearKernel.BLOCK, to - start);
      TaskVectorView.values(inputs[0], inputTypes[0], start, n, base, halves);
      TaskVectorView.values(inputs[1], inputTypes[1], start, n, x, halves);
      WorkRounding.round(base, n, rounding);
      WorkRounding.round(x, n, rounding);
      if (nearSwap) {
        for (int i = 0; i < n; i++) {
          result[i] = nearSwap(x[i], base[i], parameter, rounding);
        }
      } else {
        for (int i = 0; i < n; i++) {
          result[i] = fusion(x[i], base[i], statistics.values()[(int) ((start + i) / statistics.segmentLength())],
              parameter, rounding);
        }
      }
      LinearKernel.store(out, outType, Math.toIntExact(start - from), n, result, rounded);
    }
  }

  /**
   * {@code w·x + (1 − w)·base} with {@code w = clamp(t / max(|base − x|, 1e-6), 0, 1)}, each operation rounded to
   * {@code rounding} (null for none).
   */
  static float nearSwap(float x, float base, float t, DType rounding) {
    float distance = Math.abs(WorkRounding.round(base - x, rounding));
    float floor = WorkRounding.round(MIN_DISTANCE, rounding);
    float w = rounding == null ? t / (distance < floor ? floor : distance)
        : WorkRounding.round(WorkRounding.round(1f / (distance < floor ? floor : distance), rounding)
            * WorkRounding.round(t, rounding), rounding);
    w = w > 1f ? 1f : w < 0f ? 0f : w;
    float model = WorkRounding.round(w * x, rounding);
    float kept = WorkRounding.round(WorkRounding.round(1f - w, rounding) * base, rounding);
    return WorkRounding.round(model + kept, rounding);
  }

  /**
   * {@code base + Δ·[|Δ|·KL ≥ threshold]}, Δ = x − base, the mask multiplied as in torch; in mergekit's arithmetic
   * only Δ is rounded (its float32 mask makes the rest float32).
   */
  static float fusion(float x, float base, float divergence, float threshold, DType rounding) {
    float delta = WorkRounding.round(x - base, rounding);
    float kept = FusionThreshold.importance(delta, divergence) >= threshold ? 1f : 0f;
    return base + delta * kept;
  }
}
