package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The plain-Java statement of what {@code merge_weighted_sum} computes, in the same order:
 * {@code acc = x0*w0; acc = acc + xi*wi ...; acc = acc / divisor} when normalizing, all in float32
 * (Java float arithmetic is strict IEEE, never fused), then one rounding through {@link FloatBits}.
 */
final class MergeReference {
  private MergeReference() {}

  static ByteBuffer merge(List<ByteBuffer> inputs, List<DType> types, float[] weights, boolean normalize,
      float divisor, DType outType, int count) {
    ByteBuffer out = ByteBuffer.allocateDirect(count * outType.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int e = 0; e < count; e++) {
      float acc = 0f;
      for (int i = 0; i < inputs.size(); i++) {
        float product = load(inputs.get(i), types.get(i), e) * weights[i];
        acc = i == 0 ? product : acc + product;
      }
      if (normalize) {
        acc = acc / divisor;
      }
      store(out, outType, e, acc);
    }
    return out;
  }

  static float load(ByteBuffer buffer, DType type, int index) {
    return switch (type) {
      case F32 -> buffer.getFloat(4 * index);
      case F16 -> FloatBits.f16ToFloat(buffer.getShort(2 * index));
      case BF16 -> FloatBits.bf16ToFloat(buffer.getShort(2 * index));
      default -> throw new IllegalArgumentException(type.toString());
    };
  }

  static void store(ByteBuffer buffer, DType type, int index, float value) {
    switch (type) {
      case F32 -> buffer.putFloat(4 * index, value);
      case F16 -> buffer.putShort(2 * index, FloatBits.floatToF16(value));
      case BF16 -> buffer.putShort(2 * index, FloatBits.floatToBf16(value));
      default -> throw new IllegalArgumentException(type.toString());
    }
  }
}
