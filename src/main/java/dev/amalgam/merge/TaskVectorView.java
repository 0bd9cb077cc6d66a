package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;

/**
 * One task vector read element by element from the mapped inputs: {@code δ[e] = x[e] − base[e]} in float32,
 * for the whole-tensor passes (magnitude cuts, ranks, norms) that run before a tensor's chunks are merged.
 */
record TaskVectorView(ByteBuffer x, DType xType, ByteBuffer base, DType baseType) {

  /** Input {@code m}'s task vector over input 0, the base. */
  static TaskVectorView of(PlannedTensor tensor, ByteBuffer[] inputs, int m) {
    return new TaskVectorView(inputs[m], tensor.inputs().get(m).dtype(), inputs[0], tensor.inputs().get(0).dtype());
  }

  float delta(long e) {
    return value(x, xType, e) - value(base, baseType, e);
  }

  /** The float32 bit pattern of |δ[e]|, which orders magnitudes as integers (NaN above everything). */
  int magnitudeBits(long e) {
    return Float.floatToRawIntBits(delta(e)) & 0x7FFF_FFFF;
  }

  static float value(ByteBuffer b, DType type, long i) {
    int at = Math.toIntExact(i * type.byteSize());
    return switch (type) {
      case F32 -> b.getFloat(at);
      case F16 -> FloatBits.f16ToFloat(b.getShort(at));
      case BF16 -> FloatBits.bf16ToFloat(b.getShort(at));
      default -> throw new IllegalArgumentException("not a merge input type: " + type);
    };
  }
}
