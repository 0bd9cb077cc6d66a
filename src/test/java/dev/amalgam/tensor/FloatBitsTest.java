package dev.amalgam.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FloatBitsTest {
  @Test
  void bf16RoundsToNearestEven() {
    // 1 + 2^-8 is exactly half-way between bf16 1.0 and 1.0078125: ties go to the even mantissa (1.0).
    assertEquals((short) 0x3f80, FloatBits.floatToBf16(Float.intBitsToFloat(0x3f808000)));
    // 1.0078125 + half an ulp: tie, odd mantissa rounds up to even.
    assertEquals((short) 0x3f82, FloatBits.floatToBf16(Float.intBitsToFloat(0x3f818000)));
    assertEquals((short) 0x3f81, FloatBits.floatToBf16(Float.intBitsToFloat(0x3f808001)));
    assertEquals((short) 0x7f80, FloatBits.floatToBf16(Float.POSITIVE_INFINITY));
    assertEquals((short) 0x7f80, FloatBits.floatToBf16(Float.MAX_VALUE), "overflow rounds to infinity");
  }

  @Test
  void bf16KeepsNaN() {
    float nan = Float.intBitsToFloat(0x7f800001); // a NaN whose payload would truncate to infinity
    assertTrue(Float.isNaN(FloatBits.bf16ToFloat(FloatBits.floatToBf16(nan))));
    assertTrue(Float.isNaN(FloatBits.bf16ToFloat(FloatBits.floatToBf16(-Float.NaN))));
  }

  @Test
  void everyBf16SurvivesARoundTrip() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float f = FloatBits.bf16ToFloat((short) bits);
      if (!Float.isNaN(f)) {
        assertEquals((short) bits, FloatBits.floatToBf16(f));
      }
    }
  }

  @Test
  void everyHalfSurvivesARoundTrip() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float f = FloatBits.f16ToFloat((short) bits);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(FloatBits.f16ToFloat(FloatBits.floatToF16(f))));
      } else {
        assertEquals((short) bits, FloatBits.floatToF16(f), "half 0x" + Integer.toHexString(bits));
      }
    }
  }

  @Test
  void halfRoundsToNearestEvenIncludingSubnormals() {
    assertEquals(1.0f, FloatBits.f16ToFloat((short) 0x3c00));
    assertEquals(0x1p-24f, FloatBits.f16ToFloat((short) 0x0001));
    assertEquals(65504f, FloatBits.f16ToFloat((short) 0x7bff));
    // Half-way between the two smallest subnormals (1 and 2 units of 2^-24): ties to even, 2.
    assertEquals((short) 0x0002, FloatBits.floatToF16(1.5f * 0x1p-24f));
    assertEquals((short) 0x0000, FloatBits.floatToF16(0.5f * 0x1p-24f), "tie at zero goes to even 0");
    assertEquals((short) 0x0001, FloatBits.floatToF16(0.5000001f * 0x1p-24f));
    assertEquals((short) 0x7c00, FloatBits.floatToF16(65520f), "half-way past the largest half is infinity");
    assertEquals((short) 0x7bff, FloatBits.floatToF16(65519f));
    // Against a double-precision reference on a sweep of values.
    for (float f = -70000f; f < 70000f; f += 0.37f) {
      float back = FloatBits.f16ToFloat(FloatBits.floatToF16(f));
      if (Math.abs(f) < 65504f) {
        double ulp = Math.max(Math.ulp(back) * 8192.0, 0x1p-24);
        assertTrue(Math.abs(back - f) <= ulp / 2 + 1e-12, f + " -> " + back);
      }
    }
  }
}
