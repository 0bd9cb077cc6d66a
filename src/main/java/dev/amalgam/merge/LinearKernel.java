package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;

/**
 * The CPU arithmetic of a linear-family merge, and the plain reference the CUDA kernel is tested against:
 * {@code acc = x₀·w₀; acc += xᵢ·wᵢ ...; acc /= divisor}, all in float32 (Java never fuses into FMA), then
 * one rounding to the output type. The CUDA kernel uses the same order with non-contracting intrinsics.
 */
public final class LinearKernel {
  private LinearKernel() {}

  /** Merges elements {@code [from, to)} of the inputs into {@code out} (absolute element indices). */
  public static void run(ByteBuffer[] inputs, DType[] inputTypes, float[] weights, float divisor,
      ByteBuffer out, DType outType, long from, long to) {
    boolean divide = divisor != 1f;
    for (long e = from; e < to; e++) {
      int i = Math.toIntExact(e);
      float acc = read(inputs[0], inputTypes[0], i) * weights[0];
      for (int m = 1; m < inputs.length; m++) {
        acc = acc + read(inputs[m], inputTypes[m], i) * weights[m];
      }
      if (divide) {
        acc = acc / divisor;
      }
      write(out, outType, i, acc);
    }
  }

  static float read(ByteBuffer buffer, DType type, int element) {
    return switch (type) {
      case BF16 -> FloatBits.bf16ToFloat(buffer.getShort(element << 1));
      case F16 -> FloatBits.f16ToFloat(buffer.getShort(element << 1));
      case F32 -> buffer.getFloat(element << 2);
      default -> throw new IllegalArgumentException("not a merge input type: " + type);
    };
  }

  static void write(ByteBuffer buffer, DType type, int element, float value) {
    switch (type) {
      case BF16 -> buffer.putShort(element << 1, FloatBits.floatToBf16(value));
      case F16 -> buffer.putShort(element << 1, FloatBits.floatToF16(value));
      case F32 -> buffer.putFloat(element << 2, value);
      default -> throw new IllegalArgumentException("not a merge output type: " + type);
    }
  }
}
