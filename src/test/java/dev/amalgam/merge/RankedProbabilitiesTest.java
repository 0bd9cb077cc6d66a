package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * DELLA's probabilities against a comparison sort by (magnitude, index), on bf16 rows full of equal magnitudes:
 * a uniform number just below an element's probability is kept, one equal to it is not.
 */
class RankedProbabilitiesTest {
  @Test
  void rankByMagnitudeThenPosition() {
    int rows = 3;
    int cols = 1000;
    Random random = new Random(9);
    ByteBuffer x = ByteBuffer.allocate(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer base = ByteBuffer.allocate(2 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      // Few distinct values, both signs, zeros and a NaN: many ties, and every byte of the bit patterns matters.
      float value = switch (i % 211) {
        case 7 -> Float.NaN;
        case 19 -> -0f;
        default -> (float) Math.scalb(random.nextInt(9) - 4, random.nextInt(40) - 20);
      };
      x.putShort(2 * i, FloatBits.floatToBf16(value));
      base.putShort(2 * i, FloatBits.floatToBf16(0f));
    }
    RankedProbabilities ranked = new RankedProbabilities(new TaskVectorView(x, DType.BF16, base, DType.BF16, null),
        new long[] {rows, cols}, 0.5, 0.2);
    float[] justBelow = new float[rows * cols];
    float[] equal = new float[rows * cols];
    for (int row = 0; row < rows; row++) {
      int first = row * cols;
      Integer[] order = new Integer[cols];
      Arrays.setAll(order, j -> j);
      Arrays.sort(order, Comparator.comparingInt((Integer j) -> Float.floatToRawIntBits(
          FloatBits.bf16ToFloat(x.getShort(2 * (first + j)))) & 0x7FFF_FFFF).thenComparingInt(j -> j));
      for (int r = 0; r < cols; r++) {
        float expected = 0.3f + ((float) r / (cols - 1)) * 2f * 0.2f;
        justBelow[first + order[r]] = Math.nextDown(expected);
        equal[first + order[r]] = expected;
      }
    }
    // From mid-row to the end, across row boundaries, as a worker's block may start.
    int start = cols / 2;
    float[] kept = Arrays.copyOfRange(justBelow, start, rows * cols);
    ranked.keepBelow(start, kept.length, kept);
    float[] dropped = Arrays.copyOfRange(equal, start, rows * cols);
    ranked.keepBelow(start, dropped.length, dropped);
    for (int i = 0; i < kept.length; i++) {
      assertEquals(1f, kept[i], "element " + (start + i) + " just below its probability");
      assertEquals(0f, dropped[i], "element " + (start + i) + " at its probability");
    }
  }
}
