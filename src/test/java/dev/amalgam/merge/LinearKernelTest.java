package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The blocked CPU kernel against the element-wise definition, on fresh random inputs with special values. */
class LinearKernelTest {
  private static final float[] SPECIALS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
      Float.MIN_VALUE, Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x7f7fffff), 65519f, 65520f};

  /** The branch-free sign election against its definition: + for sum ≥ 0; a vote agrees when signum matches. */
  @Test
  void theBranchFreeElectionIsTheDefinition() {
    float[] values = {Float.NaN, -Float.NaN, Float.intBitsToFloat(0xFF800001), Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1.5f, -2.5f, Float.MAX_VALUE};
    for (float sum : values) {
      float elected = sum >= 0f ? 1f : -1f;
      int bit = LinearKernel.electedSignBit(sum);
      assertEquals(elected > 0 ? 0 : 0x8000_0000, bit, "sum " + sum);
      for (float vote : values) {
        assertEquals(Math.signum(vote) == elected ? 1f : 0f, LinearKernel.agreement(vote, bit), sum + " " + vote);
      }
    }
  }

  @Test
  void matchesTheElementWiseDefinitionForEveryTypeMix() {
    SplittableRandom random = new SplittableRandom(42);
    for (DType in0 : new DType[] {DType.BF16, DType.F16, DType.F32}) {
      for (DType in1 : new DType[] {DType.BF16, DType.F32}) {
        for (DType out : new DType[] {DType.BF16, DType.F16, DType.F32}) {
          int n = 20_011; // not a multiple of the block size
          float[] a = values(random, n);
          float[] b = values(random, n);
          float[] w = {(float) random.nextDouble(-2, 2), (float) random.nextDouble(-2, 2)};
          ByteBuffer[] inputs = {encode(a, in0), encode(b, in1)};
          int from = 7;
          ByteBuffer result = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
          for (int i = 0; i < result.capacity(); i++) {
            result.put(i, (byte) 0xff); // poison: every output element must be written
          }
          new LinearKernel().run(inputs, new DType[] {in0, in1}, w, w[0] + w[1], result, out, from, n);
          for (int i = from; i < n; i++) {
            float x = decode(inputs[0], in0, i);
            float y = decode(inputs[1], in1, i);
            float expected = (x * w[0] + y * w[1]) / (w[0] + w[1]);
            int at = i - from;
            String where = in0 + "+" + in1 + "->" + out + " [" + i + "]";
            switch (out) {
              case BF16 -> assertBits(FloatBits.floatToBf16(expected), result.getShort(at * 2), out, where);
              case F16 -> assertBits(FloatBits.floatToF16(expected), result.getShort(at * 2), out, where);
              default -> assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(result.getFloat(at * 4)), where);
            }
          }
        }
      }
    }
  }

  /** Bit-identical, except that any NaN is as good as another. */
  private static void assertBits(short expected, short actual, DType type, String where) {
    ByteBuffer pair = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort(0, expected).putShort(2, actual);
    if (Float.isNaN(decode(pair, type, 0))) {
      assertTrue(Float.isNaN(decode(pair, type, 1)), where + ": expected NaN");
    } else {
      assertEquals(expected, actual, where);
    }
  }

  private static float[] values(SplittableRandom random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextInt(50) == 0 ? SPECIALS[random.nextInt(SPECIALS.length)] : (float) random.nextGaussian();
    }
    return v;
  }

  private static ByteBuffer encode(float[] values, DType type) {
    ByteBuffer b = ByteBuffer.allocateDirect(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      switch (type) {
        case BF16 -> b.putShort(i * 2, FloatBits.floatToBf16(values[i]));
        case F16 -> b.putShort(i * 2, FloatBits.floatToF16(values[i]));
        default -> b.putFloat(i * 4, values[i]);
      }
    }
    return b;
  }

  private static float decode(ByteBuffer b, DType type, int i) {
    return switch (type) {
      case BF16 -> FloatBits.bf16ToFloat(b.getShort(i * 2));
      case F16 -> FloatBits.f16ToFloat(b.getShort(i * 2));
      default -> b.getFloat(i * 4);
    };
  }
}
