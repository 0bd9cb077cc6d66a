package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * DELLA's keep probabilities for one task vector, a row at a time: within each row (the last dimension; a 1-D
 * tensor is one row), the element of ascending magnitude rank r (from 0) is kept with probability
 * {@code (density − ε) + (r / (cols − 1))·2·ε}, in mergekit's float32 steps. Equal magnitudes rank by position,
 * lower index first (mergekit's unstable sort leaves their order unspecified; the expected kept count is the
 * same). A row of one element keeps with probability {@code density} (mergekit divides 0 by 0 there and fails).
 *
 * <p>Rows are ranked on demand and the last one is cached, so a worker walking its chunk ranks each row once,
 * and memory is one row whatever the tensor. The rank is a stable LSD radix sort of the magnitudes' bit patterns,
 * 11 bits at a time: three counting passes instead of a comparison sort, which was the merge's largest cost.
 */
final class RankedProbabilities {
  private final TaskVectorView delta;
  private final int cols;
  /** The keep probability of each rank: the same for every row. */
  private final float[] byRank;
  private static final int RADIX_BITS = 11;
  private static final int RADIX = 1 << RADIX_BITS;
  private static final int RADIX_MASK = RADIX - 1;

  private final int[] keys;
  private final int[] sortedKeys;
  private final int[] counts = new int[RADIX + 1];
  private final int[] order;
  private final int[] sorted;
  private final float[] deltas;
  private final float[] scratch;
  private final float[] probabilities;
  private long cachedRow = -1;

  RankedProbabilities(TaskVectorView delta, long[] shape, double density, double epsilon) {
    this.delta = delta;
    this.cols = rowLength(shape);
    this.byRank = new float[cols];
    float low = (float) (density - epsilon);
    for (int r = 0; r < cols; r++) {
      float rankNorm = cols == 1 ? 0.5f : (float) r / (float) (cols - 1);
      byRank[r] = low + rankNorm * 2f * (float) epsilon;
    }
    this.keys = new int[cols];
    this.sortedKeys = new int[cols];
    this.order = new int[cols];
    this.sorted = new int[cols];
    this.deltas = new float[cols];
    this.scratch = new float[cols];
    this.probabilities = new float[cols];
  }

  /** The row length DELLA ranks within; tensors of three or more dimensions are refused. */
  static int rowLength(long[] shape) {
    if (shape.length > 2) {
      throw new UserError("della ranks magnitudes within rows; a tensor of shape " + Arrays.toString(shape)
          + " has more than 2 dimensions");
    }
    return shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
  }

  /**
   * For elements {@code [start, start + n)}: {@code values[i]}, their uniform numbers, become 1 where below the
   * element's keep probability, else 0.
   */
  void keepBelow(long start, int n, float[] values) {
    long row = start / cols;
    int col = (int) (start - row * cols);
    for (int i = 0; i < n; i++, col++) {
      if (col == cols) {
        row++;
        col = 0;
      }
      if (row != cachedRow) {
        rank(row);
        cachedRow = row;
      }
      values[i] = Float.floatToRawIntBits(values[i] - probabilities[col]) >>> 31;
    }
  }

  private void rank(long row) {
    delta.load(row * cols, cols, deltas, scratch);
    for (int j = 0; j < cols; j++) {
      keys[j] = TaskVectorView.magnitudeBits(deltas[j]);
      order[j] = j;
    }
    // Keys (31 bits) and positions move together, 11 bits a pass, so each pass reads both in sequence.
    int[] keysFrom = keys;
    int[] keysTo = sortedKeys;
    int[] from = order;
    int[] to = sorted;
    for (int shift = 0; shift < 31; shift += RADIX_BITS) {
      Arrays.fill(counts, 0);
      for (int j = 0; j < cols; j++) {
        counts[((keysFrom[j] >>> shift) & RADIX_MASK) + 1]++;
      }
      for (int d = 0; d < RADIX; d++) {
        counts[d + 1] += counts[d];
      }
      for (int j = 0; j < cols; j++) {
        int at = counts[(keysFrom[j] >>> shift) & RADIX_MASK]++;
        keysTo[at] = keysFrom[j];
        to[at] = from[j];
      }
      int[] swap = keysFrom;
      keysFrom = keysTo;
      keysTo = swap;
      swap = from;
      from = to;
      to = swap;
    }
    for (int r = 0; r < cols; r++) {
      probabilities[from[r]] = byRank[r];
    }
  }

}
