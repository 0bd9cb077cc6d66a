package dev.amalgam.tensor;

/**
 * Bit-level conversions between float32 and the 16-bit float formats. The merge rounds exactly once, so
 * these must be round-to-nearest-even and keep NaN a NaN; the CUDA kernels use the same integer recipe.
 */
public final class FloatBits {
  private FloatBits() {}

  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** float32 to bfloat16, round to nearest even; a NaN stays a (quiet) NaN of the same sign. */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int roundingBias = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + roundingBias) >>> 16);
  }

  /** IEEE half to float32; exact (every half is a float). */
  public static float f16ToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f; // subnormal: mantissa * 2^-24, exact in float32
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** float32 to IEEE half, round to nearest even, overflow to infinity, NaN kept. */
  public static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs > 0x7f800000) {
      return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
    }
    if (abs >= 0x477ff000) { // rounds to 65536 or more: infinity
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) { // below the smallest normal half: round the subnormal in integer arithmetic
      int shift = 126 - (abs >>> 23);
      if (shift > 24) {
        return (short) sign;
      }
      int mantissa = (abs & 0x7fffff) | 0x800000;
      int truncated = mantissa >>> shift;
      int rest = mantissa & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      int result = truncated + ((rest > halfway || (rest == halfway && (truncated & 1) == 1)) ? 1 : 0);
      return (short) (sign | result);
    }
    int rounded = abs - 0x38000000 + 0xfff + ((abs >>> 13) & 1);
    return (short) (sign | (rounded >>> 13));
  }
}
