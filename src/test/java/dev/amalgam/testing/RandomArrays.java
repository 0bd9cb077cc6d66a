package dev.amalgam.testing;

import dev.amalgam.tensor.FloatBits;
import java.util.Random;

/** Fresh random inputs for kernels and ops. */
public final class RandomArrays {
  private RandomArrays() {}

  /** {@code n} normal samples times {@code scale}. */
  public static float[] gaussians(Random random, int n, float scale) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian() * scale;
    }
    return values;
  }

  /** {@code n} normal samples times {@code scale}, as bf16 bits. */
  public static short[] bf16Gaussians(Random random, int n, float scale) {
    return bf16Bits(gaussians(random, n, scale));
  }

  /** Each value rounded to bf16, to nearest even. */
  public static short[] bf16Bits(float[] values) {
    short[] bits = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = FloatBits.floatToBf16(values[i]);
    }
    return bits;
  }

  /** The values rounded to bf16 and widened back: what a bf16 weight holds. */
  public static float[] roundedToBf16(float[] values) {
    float[] rounded = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      rounded[i] = FloatBits.bf16ToFloat(FloatBits.floatToBf16(values[i]));
    }
    return rounded;
  }

  /** bf16 bits widened to float32, exactly. */
  public static float[] widened(short[] bf16) {
    float[] values = new float[bf16.length];
    for (int i = 0; i < bf16.length; i++) {
      values[i] = FloatBits.bf16ToFloat(bf16[i]);
    }
    return values;
  }
}
