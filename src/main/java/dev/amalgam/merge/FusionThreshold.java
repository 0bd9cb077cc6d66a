package dev.amalgam.merge;

import java.nio.ByteBuffer;

/**
 * arcee_fusion's statistics ({@link TensorRule.Fusion}): per row, the KL divergence {@code Σ p·log(p/q)} of the
 * softmaxes of the model's row (p) and the base's (q), each plus 1e-8, in float64; then the threshold
 * {@code median + 1.5·(q₃ − q₁)} of the importances {@code |x − base|·KL(row)} (float32), whose quantiles are
 * those of mergekit: the sorted importances at {@code ⌊f·(n − 1)⌋} for f = ¼, ½, ¾, found by {@link RadixSelection}
 * without sorting.
 */
final class FusionThreshold {
  private static final double SOFTMAX_FLOOR = 1e-8;

  private FusionThreshold() {}

  static RuleStatistics of(PlannedTensor tensor, ByteBuffer[] inputs) {
    long n = tensor.elementCount();
    long rowLength = TensorRule.Segments.ROWS.length(tensor.shape());
    int rows = Math.toIntExact(TensorRule.Segments.ROWS.count(n, rowLength));
    float[] divergences = new float[rows];
    TensorBlocks blocks = TensorBlocks.aligned(n, rowLength);
    blocks.map(block -> {
      int count = blocks.length(block);
      float[][] xb = modelAndBase(tensor, inputs, blocks.start(block), count);
      int firstRow = (int) (blocks.start(block) / rowLength);
      for (int row = 0; row * rowLength < count; row++) {
        int from = (int) (row * rowLength);
        divergences[firstRow + row] = (float) divergence(xb[0], xb[1], from, (int) Math.min(count, from + rowLength));
      }
      return null;
    });
    if (n == 0) {
      return new RuleStatistics(TensorRule.Segments.ROWS, rowLength, 1, divergences, 0f);
    }
    RadixSelection importances = new RadixSelection(blocks, 1, (from, count, out) -> {
      float[][] xb = modelAndBase(tensor, inputs, from, count);
      for (int i = 0; i < count; i++) {
        float delta = WorkRounding.round(xb[0][i] - xb[1][i], tensor.rounding());
        out[0][i] = sortable(importance(delta, divergences[(int) ((from + i) / rowLength)]));
      }
    });
    long[] ranks = new long[3];
    float[] fractions = {0.25f, 0.5f, 0.75f};
    for (int q = 0; q < 3; q++) {
      long index = (long) (fractions[q] * (float) (n - 1));  // mergekit's float32 index into the sorted values
      ranks[q] = n - index;  // the same value counted from the top
    }
    int[] answers = importances.kthLargest(new int[3], ranks);
    float q1 = unsortable(answers[0]);
    float median = unsortable(answers[1]);
    float q3 = unsortable(answers[2]);
    return new RuleStatistics(TensorRule.Segments.ROWS, rowLength, 1, divergences, median + 1.5f * (q3 - q1));
  }

  /** An element's importance, as the element op computes it: {@code |x − base|·KL} in float32. */
  static float importance(float delta, float divergence) {
    return Math.abs(delta) * divergence;
  }

  /** KL(softmax(x) + ε ‖ softmax(base) + ε) over elements {@code [from, to)}. */
  static double divergence(float[] x, float[] base, int from, int to) {
    double maxX = Double.NEGATIVE_INFINITY;
    double maxBase = Double.NEGATIVE_INFINITY;
    for (int i = from; i < to; i++) {
      maxX = Math.max(maxX, x[i]);
      maxBase = Math.max(maxBase, base[i]);
    }
    double[] expX = new double[to - from];
    double[] expBase = new double[to - from];
    double sumX = 0;
    double sumBase = 0;
    for (int i = from; i < to; i++) {
      expX[i - from] = Math.exp(x[i] - maxX);
      expBase[i - from] = Math.exp(base[i] - maxBase);
      sumX += expX[i - from];
      sumBase += expBase[i - from];
    }
    double kl = 0;
    for (int i = 0; i < expX.length; i++) {
      double p = expX[i] / sumX + SOFTMAX_FLOOR;
      double q = expBase[i] / sumBase + SOFTMAX_FLOOR;
      kl += p * Math.log(p / q);
    }
    return kl;
  }

  /** A float's bits mapped so that unsigned integer order is float order (negatives below positives). */
  static int sortable(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ (bits >> 31 | 0x8000_0000);
  }

  static float unsortable(int key) {
    return Float.intBitsToFloat(key ^ (~key >> 31 | 0x8000_0000));
  }

  /**
   * The model's (index 0) and the base's (index 1) values over elements {@code [from, from + count)}, rounded to the
   * tensor's work dtype in mergekit's arithmetic.
   */
  private static float[][] modelAndBase(PlannedTensor tensor, ByteBuffer[] inputs, long from, int count) {
    float[][] xb = new float[2][count];
    short[] halves = new short[count];
    TaskVectorView.values(inputs[1], tensor.inputs().get(1).dtype(), from, count, xb[0], halves);
    TaskVectorView.values(inputs[0], tensor.inputs().get(0).dtype(), from, count, xb[1], halves);
    WorkRounding.round(xb[0], count, tensor.rounding());
    WorkRounding.round(xb[1], count, tensor.rounding());
    return xb;
  }
}
