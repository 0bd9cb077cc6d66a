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

  /** Merges elements {@code [from, to)} into {@code out}, element {@code from} going to its start. */
  void run(ByteBuffer[] inputs, DType[] inputTypes, TensorRule rule, RuleStatistics statistics, ByteBuffer out,
      DType outType, long from, long to) {
    boolean nearSwap = rule instanceof TensorRule.NearSwap;
    float parameter = statistics.parameter();
    for (long start = from; start < to; start += LinearKernel.BLOCK) {
      int n = (int) Math.min(LinearKernel.BLOCK, to - start);
      TaskVectorView.values(inputs[0], inputTypes[0], start, n, base, halves);
      TaskVectorView.values(inputs[1], inputTypes[1], start, n, x, halves);
      if (nearSwap) {
        for (int i = 0; i < n; i++) {
          result[i] = nearSwap(x[i], base[i], parameter);
        }
      } else {
        for (int i = 0; i < n; i++) {
          result[i] = fusion(x[i], base[i], statistics.values()[(int) ((start + i) / statistics.segmentLength())],
              parameter);
        }
      }
      LinearKernel.store(out, outType, Math.toIntExact(start - from), n, result, rounded);
    }
  }

  /** {@code w·x + (1 − w)·base} with {@code w = clamp(t / max(|base − x|, 1e-6), 0, 1)}. */
  static float nearSwap(float x, float base, float t) {
    float distance = Math.abs(base - x);
    float w = t / (distance < MIN_DISTANCE ? MIN_DISTANCE : distance);
    w = w > 1f ? 1f : w < 0f ? 0f : w;
    return w * x + (1f - w) * base;
  }

  /** {@code base + Δ·[|Δ|·KL ≥ threshold]}, Δ = x − base, the mask multiplied as in torch. */
  static float fusion(float x, float base, float divergence, float threshold) {
    float delta = x - base;
    float kept = FusionThreshold.importance(x, base, divergence) >= threshold ? 1f : 0f;
    return base + delta * kept;
  }
}
