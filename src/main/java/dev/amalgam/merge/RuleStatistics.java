package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The statistics of a tensor with a {@link TensorRule}, found in passes over the mapped inputs before any chunk is
 * merged, laid out as the element ops read them on both devices: {@code stride} values per segment (row, column or
 * the whole tensor, {@link TensorRule.Segments}) of {@code segmentLength}, and one scalar {@code parameter}.
 * <ul>
 *   <li>{@link TensorRule.Combination}: per segment, the weight of every input (0 for a base under task vectors);
 *   <li>{@link TensorRule.NearSwap}: no values; the parameter is t;
 *   <li>{@link TensorRule.Fusion}: per row, the KL divergence of the softmaxes; the parameter is the threshold.
 * </ul>
 * Sums run in float64 in element order within a {@link TensorBlocks} block and in block order across blocks, so the
 * statistics are the same on every run, thread count and device.
 */
record RuleStatistics(TensorRule.Segments segments, long segmentLength, int stride, float[] values, float parameter) {

  static RuleStatistics of(PlannedTensor tensor, ByteBuffer[] inputs) {
    TensorRule rule = tensor.rule();
    if (rule instanceof TensorRule.Combination combination) {
      return combination(tensor, inputs, combination);
    }
    if (rule instanceof TensorRule.NearSwap nearSwap) {
      return new RuleStatistics(TensorRule.Segments.TENSOR, Math.max(1, tensor.elementCount()), 0, new float[0],
          nearSwap.t());
    }
    return FusionThreshold.of(tensor, inputs);
  }

  /**
   * The values that elements {@code [start, start + count)} read, as indices {@code [from, to)} into
   * {@link #values}: their rows', or every column's; none where the segment is the whole tensor.
   */
  int[] valueRange(long start, long count) {
    return switch (segments) {
      case TENSOR -> new int[] {0, 0};
      case ROWS -> new int[] {(int) (start / segmentLength) * stride,
          (int) ((start + count - 1) / segmentLength + 1) * stride};
      case COLUMNS -> new int[] {0, values.length};
    };
  }

  /** The most bytes of values ({@link #valueRange}) a chunk of {@code count} elements of {@code tensor} reads. */
  static long maxValueBytes(PlannedTensor tensor, long count) {
    TensorRule rule = tensor.rule();
    TensorRule.Segments segments = rule instanceof TensorRule.Combination c ? c.segments()
        : rule instanceof TensorRule.Fusion ? TensorRule.Segments.ROWS : TensorRule.Segments.TENSOR;
    int stride = rule instanceof TensorRule.Fusion ? 1 : tensor.inputs().size();
    long length = segments.length(tensor.shape());
    return switch (segments) {
      case TENSOR -> 0;
      case ROWS -> ((count + length - 1) / length + 1) * stride * Float.BYTES;
      case COLUMNS -> length * stride * Float.BYTES;
    };
  }

  /**
   * The weights of input {@code input} for elements {@code [start, start + n)} into {@code out}, for a
   * {@link TensorRule.Combination}: a run per row, or the columns in turn.
   */
  void weights(long start, int n, int input, float[] out) {
    if (segments == TensorRule.Segments.COLUMNS) {
      int column = (int) (start % segmentLength);
      for (int i = 0; i < n; i++) {
        out[i] = values[column * stride + input];
        column = column + 1 == segmentLength ? 0 : column + 1;
      }
      return;
    }
    long segment = segments.of(start, segmentLength);
    long left = segments == TensorRule.Segments.ROWS ? segmentLength - start % segmentLength : n;
    for (int i = 0; i < n; segment++, left = segmentLength) {
      int run = (int) Math.min(left, n - i);
      Arrays.fill(out, i, i + run, values[(int) segment * stride + input]);
      i += run;
    }
  }

  private static RuleStatistics combination(PlannedTensor tensor, ByteBuffer[] inputs, TensorRule.Combination rule) {
    int n = inputs.length;
    int first = tensor.taskVectors() ? 1 : 0;
    int vectors = n - first;
    int sums = Gram.triangle(vectors);
    TensorRule.Segments segments = rule.segments();
    long length = segments.length(tensor.shape());
    int segmentCount = Math.toIntExact(segments.count(tensor.elementCount(), length));
    float[] values = new float[segmentCount * n];
    TensorBlocks blocks = segments == TensorRule.Segments.ROWS ? TensorBlocks.aligned(tensor.elementCount(), length)
        : TensorBlocks.of(tensor);
    // Per block: its sums, per segment it covers (the whole tensor, its columns) or its rows' weights, written here.
    List<double[]> partials = blocks.map(block -> {
      int count = blocks.length(block);
      long start = blocks.start(block);
      float[][] v = vectors(tensor, inputs, first, start, count);
      if (segments == TensorRule.Segments.ROWS) {
        int rowLength = (int) length;
        for (int row = 0; row * rowLength < count; row++) {
          double[] gram = new double[sums];
          Gram.accumulate(v, row * rowLength, Math.min(count, (row + 1) * rowLength), gram);
          put(values, (int) (start / rowLength) + row, n, first, rule.coefficients().of(Gram.matrix(gram, 0, vectors)));
        }
        return null;
      }
      if (segments == TensorRule.Segments.TENSOR) {
        double[] gram = new double[sums];
        Gram.accumulate(v, 0, count, gram);
        return gram;
      }
      int columns = (int) length;
      double[] gram = new double[columns * sums];
      float[][] column = new float[vectors][];
      for (int c = 0; c < columns; c++) {
        for (int k = 0; k < vectors; k++) {
          column[k] = strided(v[k], (int) ((c - start % columns + columns) % columns), columns);
        }
        double[] one = new double[sums];
        Gram.accumulate(column, 0, column[0].length, one);
        System.arraycopy(one, 0, gram, c * sums, sums);
      }
      return gram;
    });
    if (segments != TensorRule.Segments.ROWS) {
      double[] total = new double[segmentCount * sums];
      for (double[] partial : partials) {
        for (int i = 0; i < total.length; i++) {
          total[i] += partial[i];
        }
      }
      for (int s = 0; s < segmentCount; s++) {
        put(values, s, n, first, rule.coefficients().of(Gram.matrix(total, s * sums, vectors)));
      }
    }
    return new RuleStatistics(segments, length, n, values, 0f);
  }

  /** Every {@code step}-th value of {@code v} from {@code offset}. */
  private static float[] strided(float[] v, int offset, int step) {
    int count = offset >= v.length ? 0 : (v.length - offset + step - 1) / step;
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = v[offset + i * step];
    }
    return out;
  }

  private static void put(float[] values, int segment, int n, int first, double[] coefficients) {
    for (int k = 0; k < coefficients.length; k++) {
      values[segment * n + first + k] = (float) coefficients[k];
    }
  }

  /** The combined vectors over elements {@code [from, from + count)}: inputs, or task vectors over input 0. */
  private static float[][] vectors(PlannedTensor tensor, ByteBuffer[] inputs, int first, long from, int count) {
    float[][] v = new float[inputs.length - first][count];
    short[] halves = new short[count];
    for (int m = first; m < inputs.length; m++) {
      if (first == 1) {
        TaskVectorView.of(tensor, inputs, m).load(from, count, v[m - 1], new float[count]);
      } else {
        TaskVectorView.values(inputs[m], tensor.inputs().get(m).dtype(), from, count, v[m], halves);
      }
    }
    return v;
  }
}
