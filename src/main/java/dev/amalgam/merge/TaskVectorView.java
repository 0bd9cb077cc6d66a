package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;

/**
 * One task vector read from the mapped inputs, {@code δ[e] = x[e] − base[e]} in float32, for the whole-tensor
 * passes (magnitude cuts, ranks, norms) that run before a tensor's chunks are merged. Reads go in bulk, a block
 * at a time, as {@link LinearKernel}'s do.
 */
record TaskVectorView(ByteBuffer x, DType xType, ByteBuffer base, DType baseType, DType rounding) {

  /** Input {@code m}'s task vector over input 0, the base, rounded as the tensor's arithmetic says. */
  static TaskVectorView of(PlannedTensor tensor, ByteBuffer[] inputs, int m) {
    return new TaskVectorView(inputs[m], tensor.inputs().get(m).dtype(), inputs[0], tensor.inputs().get(0).dtype(),
        tensor.rounding());
  }

  /**
   * δ over elements {@code [from, from + count)} into {@code out}, the inputs and δ rounded to {@code rounding}
   * (null for none); {@code scratch} holds at least count floats.
   */
  void load(long from, int count, float[] out, float[] scratch) {
    short[] halves = new short[count];
    values(x, xType, from, count, out, halves);
    values(base, baseType, from, count, scratch, halves);
    WorkRounding.round(out, count, rounding);
    WorkRounding.round(scratch, count, rounding);
    for (int i = 0; i < count; i++) {
      out[i] = out[i] - scratch[i];
    }
    WorkRounding.round(out, count, rounding);
  }

  /** The float32 bit pattern of |δ|, which orders magnitudes as integers (NaN above everything). */
  static int magnitudeBits(float delta) {
    return Float.floatToRawIntBits(delta) & 0x7FFF_FFFF;
  }

  /**
   * Elements {@code [from, from + count)} of one input, as float32, into {@code out}: a bulk copy, then one plain
   * loop per type, which the JIT vectorizes. {@code halves} is scratch for at least count 16-bit values.
   */
  static void values(ByteBuffer b, DType type, long from, int count, float[] out, short[] halves) {
    int at = Math.toIntExact(from);
    switch (type) {
      case F32 -> b.asFloatBuffer().get(at, out, 0, count);
      case BF16 -> {
        b.asShortBuffer().get(at, halves, 0, count);
        for (int i = 0; i < count; i++) {
          out[i] = Float.intBitsToFloat(halves[i] << 16);
        }
      }
      case F16 -> {
        b.asShortBuffer().get(at, halves, 0, count);
        for (int i = 0; i < count; i++) {
          out[i] = FloatBits.f16ToFloat(halves[i]);
        }
      }
      default -> throw new IllegalArgumentException("not a merge input type: " + type);
    }
  }
}
