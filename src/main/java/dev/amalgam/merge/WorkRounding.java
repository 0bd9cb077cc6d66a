package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.util.List;
import java.util.Optional;

/**
 * mergekit's arithmetic ({@link Arithmetic#MERGEKIT}): a float32 result rounded to the half-width work dtype, as
 * torch rounds each op's result in bfloat16 or float16 (to nearest even, NaN kept). A null dtype rounds nothing.
 */
final class WorkRounding {
  private WorkRounding() {}

  static float round(float x, DType to) {
    if (to == null) {
      return x;
    }
    return to == DType.BF16 ? FloatBits.bf16ToFloat(FloatBits.floatToBf16(x))
        : FloatBits.f16ToFloat(FloatBits.floatToF16(x));
  }

  /** {@link #round} over {@code values[0, n)}, in place. */
  static void round(float[] values, int n, DType to) {
    if (to == null) {
      return;
    }
    if (to == DType.BF16) {
      // FloatBits.floatToBf16 without a branch, so that the JIT vectorizes the loop.
      for (int i = 0; i < n; i++) {
        int bits = Float.floatToRawIntBits(values[i]);
        int nearestEven = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
        int quietNaN = (bits | 0x400000) & 0xffff0000;
        values[i] = Float.intBitsToFloat((bits & 0x7fffffff) > 0x7f800000 ? quietNaN : nearestEven);
      }
      return;
    }
    for (int i = 0; i < n; i++) {
      values[i] = FloatBits.f16ToFloat(FloatBits.floatToF16(values[i]));
    }
  }

  /**
   * The dtype mergekit computes a tensor in: the config's {@code dtype}, else the inputs' (float32 where they
   * differ, as torch promotes them); null where that is float32, which rounds nothing.
   */
  static DType workDType(Arithmetic arithmetic, Optional<DType> configured, List<DType> inputs) {
    if (arithmetic != Arithmetic.MERGEKIT) {
      return null;
    }
    DType work = configured.orElseGet(() -> inputs.stream().distinct().count() == 1 ? inputs.get(0) : DType.F32);
    return work == DType.F32 ? null : work;
  }
}
