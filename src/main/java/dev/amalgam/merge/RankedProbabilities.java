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
 * and memory is one row whatever the tensor.
 */
final class RankedProbabilities {
  private final TaskVectorView delta;
  private final int cols;
  private final float low;
  private final float epsilon;
  private final long[] keys;
  private final float[] deltas;
  private final float[] scratch;
  private final float[] probabilities;
  private long cachedRow = -1;

  RankedProbabilities(TaskVectorView delta, long[] shape, double density, double epsilon) {
    this.delta = delta;
    this.cols = rowLength(shape);
    this.low = (float) (density - epsilon);
    this.epsilon = (float) epsilon;
    this.keys = new long[cols];
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

  /** Element {@code e}'s keep probability. */
  float probability(long e) {
    long row = e / cols;
    if (row != cachedRow) {
      rank(row);
      cachedRow = row;
    }
    return probabilities[(int) (e - row * cols)];
  }

  private void rank(long row) {
    delta.load(row * cols, cols, deltas, scratch);
    for (int j = 0; j < cols; j++) {
      keys[j] = (long) TaskVectorView.magnitudeBits(deltas[j]) << 32 | j;
    }
    Arrays.sort(keys);
    for (int r = 0; r < cols; r++) {
      float rankNorm = cols == 1 ? 0.5f : (float) r / (float) (cols - 1);
      probabilities[(int) keys[r]] = low + rankNorm * 2f * epsilon;
    }
  }
}
