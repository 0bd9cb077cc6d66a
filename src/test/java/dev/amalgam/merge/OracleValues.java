package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Element access for comparing merged tensors with the mergekit oracle's row-sampled ones. */
final class OracleValues {
  private OracleValues() {}

  /** Rows 0, stride, 2·stride, ... of a 2-D tensor (all of a 1-D one), as the oracle keeps them. */
  static HostTensor sampledRows(HostTensor t, int stride) {
    byte[] all = bytes(t.data());
    if (t.shape().length != 2) {
      return t;
    }
    int rowBytes = Math.toIntExact(t.shape()[1] * t.dtype().byteSize());
    int rows = Math.toIntExact(t.shape()[0]);
    int keptRows = (rows + stride - 1) / stride;
    byte[] kept = new byte[keptRows * rowBytes];
    for (int r = 0, k = 0; r < rows; r += stride, k++) {
      System.arraycopy(all, r * rowBytes, kept, k * rowBytes, rowBytes);
    }
    return new HostTensor(t.name(), t.dtype(), new long[] {keptRows, t.shape()[1]},
        ByteBuffer.wrap(kept).order(ByteOrder.LITTLE_ENDIAN));
  }

  static byte[] bytes(ByteBuffer data) {
    ByteBuffer b = data.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** A BF16 or F32 tensor's values. */
  static float[] floats(HostTensor t) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[b.remaining() / t.dtype().byteSize()];
    for (int i = 0; i < values.length; i++) {
      values[i] = t.dtype() == DType.F32 ? b.getFloat(4 * i) : FloatBits.bf16ToFloat(b.getShort(2 * i));
    }
    return values;
  }

  /** How many bf16 values lie between a and b, plus one (0 when equal): their distance in the ordered patterns. */
  static long bf16UlpsApart(float a, float b) {
    return Math.abs(ordered(FloatBits.floatToBf16(a)) - ordered(FloatBits.floatToBf16(b)));
  }

  /** bf16 bit patterns mapped to integers in the order of their values (−0 and +0 both 0). */
  private static long ordered(short bits) {
    int b = bits & 0xFFFF;
    return (b & 0x8000) != 0 ? -(long) (b & 0x7FFF) : b;
  }

  /** The bf16 unit in the last place at |x|. */
  static double bf16Ulp(float x) {
    float magnitude = Math.abs(x);
    float next = FloatBits.bf16ToFloat((short) ((FloatBits.floatToBf16(magnitude) & 0xFFFF) + 1));
    return next - FloatBits.bf16ToFloat(FloatBits.floatToBf16(magnitude));
  }
}
