package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The whole-tensor statistics of a tensor with task vectors, found in passes over the mapped inputs before any
 * chunk is merged, for the element op to read:
 * <ul>
 *   <li>{@code cuts}: the magnitude cuts of TIES and breadcrumbs ({@link MagnitudeThresholds});
 *   <li>{@code scales}: per input, the L1 rescale factor {@code L1(δ) / L1(kept δ)} (1 where nothing is rescaled,
 *       or where either norm is under 1e-7, as in mergekit);
 *   <li>{@code weights}: SCE's per-model weights, the mean squares of the selected task vectors normalized to sum
 *       to 1 (1/n where that sum is under 1e-6); null for the plan's weights;
 *   <li>{@code varianceCut}: SCE's selection, the float32 bit pattern of the smallest variance across the task
 *       vectors that is kept ({@link #variance}); 0 keeps everything;
 *   <li>{@code keepMasks}: per input, what a random thinning kept, drawn once in the rescale pass, and for DELLA
 *       always, so that the GPU need not rank rows (null where not drawn: DARE's element op then draws itself, to
 *       the same bits).
 * </ul>
 * The passes run over {@link TensorBlocks} in parallel. Norms and mean squares are summed in float64, in a fixed
 * order within a block ({@link LaneSums}) and in block order across
 * them, so they are the same on every run, thread count and device.
 */
record TensorStatistics(MagnitudeThresholds.Cuts cuts, float[] scales, float[] weights, int varianceCut,
    KeepMask[] keepMasks) {
  private static final double TINY_NORM = 1e-7;
  private static final double TINY_WEIGHT_SUM = 1e-6;
  /** A variance cut that keeps nothing: above every variance but the one NaN pattern arithmetic never makes. */
  static final int KEEP_NONE = Integer.MAX_VALUE;

  static TensorStatistics of(PlannedTensor tensor, ByteBuffer[] inputs) {
    Sparsification sparsification = tensor.sparsification();
    float[] scales = new float[inputs.length];
    Arrays.fill(scales, 1f);
    MagnitudeThresholds.Cuts cuts = sparsification != null && sparsification.kind().byMagnitude()
        ? MagnitudeThresholds.of(tensor, inputs) : MagnitudeThresholds.Cuts.allKept(inputs.length);
    if (tensor.sce() != null) {
      return sce(tensor, inputs, cuts, scales);
    }
    KeepMask[] keepMasks = new KeepMask[inputs.length];
    TensorStatistics unscaled = new TensorStatistics(cuts, scales.clone(), null, 0, keepMasks.clone());
    if (sparsification == null
        || !sparsification.rescale() && sparsification.kind() != Sparsification.Kind.RANKED_RANDOM) {
      return unscaled;
    }
    TensorBlocks blocks = TensorBlocks.of(tensor);
    boolean random = sparsification.kind().random();
    for (int m = 1; m < inputs.length; m++) {
      if (!sparsification.thins(m)) {
        continue;
      }
      int input = m;
      TaskVectorView view = TaskVectorView.of(tensor, inputs, m);
      // Per block: L1 of the task vector, then of what its thinning keeps (and, drawn at random, which).
      List<BlockNorms> norms = blocks.map(block -> {
        int count = blocks.length(block);
        long start = blocks.start(block);
        float[] deltas = new float[count];
        view.load(start, count, deltas, new float[count]);
        float[] flags = new float[count];
        new TaskVectorThinning(tensor, inputs, unscaled).keepFlags(input, start, deltas, count, flags);
        float[] magnitudes = new float[count];
        for (int i = 0; i < count; i++) {
          magnitudes[i] = Math.abs(deltas[i]);
        }
        double before = LaneSums.sum(magnitudes, count);
        for (int i = 0; i < count; i++) {
          magnitudes[i] = magnitudes[i] * flags[i];
        }
        double after = LaneSums.sum(magnitudes, count);
        return new BlockNorms(before, after, random ? KeepMask.bitsOf(flags, count) : null);
      });
      double before = 0;
      double after = 0;
      for (BlockNorms norm : norms) {
        before += norm.before();
        after += norm.after();
      }
      if (random) {
        keepMasks[m] = new KeepMask(blocks, norms.stream().map(BlockNorms::kept).toList());
      }
      if (sparsification.rescale() && before >= TINY_NORM && after >= TINY_NORM) {
        scales[m] = (float) (before / after);
      }
    }
    return new TensorStatistics(cuts, scales, null, 0, keepMasks);
  }

  /** One block's L1 norms of a task vector before and after thinning, and its random keep bits (or null). */
  private record BlockNorms(double before, double after, long[] kept) {}

  /** The weights the element op uses: SCE's, else the plan's. */
  float[] weightsOr(float[] planned) {
    return weights != null ? weights : planned;
  }

  /**
   * SCE's selection over a block: {@code kept[i]} is 1 where the bit pattern of element i's variance across
   * the task vectors {@code deltas[1 .. inputs-1]} (index 0, the base's, unused) is at least {@code cut}, else 0. The
   * variance is torch's population variance in a fixed float32 order, the one merge.cu uses: the sum in model
   * order over the model count (the mean), then the squared deviations summed in model order over the count.
   * Loops run over the block one model at a time, without branches, so the JIT can vectorize them.
   */
  static void selectByVariance(float[][] deltas, int inputs, int n, int cut, float[] kept, float[] scratch) {
    float models = inputs - 1;
    float[] mean = kept;  // kept holds the mean until the end
    System.arraycopy(deltas[1], 0, mean, 0, n);
    for (int m = 2; m < inputs; m++) {
      float[] d = deltas[m];
      for (int i = 0; i < n; i++) {
        mean[i] = mean[i] + d[i];
      }
    }
    for (int i = 0; i < n; i++) {
      mean[i] = mean[i] / models;
    }
    float[] squares = scratch;
    for (int m = 1; m < inputs; m++) {
      float[] d = deltas[m];
      for (int i = 0; i < n; i++) {
        float deviation = d[i] - mean[i];
        squares[i] = m == 1 ? deviation * deviation : squares[i] + deviation * deviation;
      }
    }
    for (int i = 0; i < n; i++) {
      int bits = Float.floatToRawIntBits(squares[i] / models) & 0x7FFF_FFFF;
      kept[i] = ~(bits - cut) >>> 31;  // 1 where bits >= cut: both lie in [0, 2³¹)
    }
  }

  /** SCE's statistics: the variance cut (a radix selection, as for magnitudes), then the models' weights. */
  private static TensorStatistics sce(PlannedTensor tensor, ByteBuffer[] inputs, MagnitudeThresholds.Cuts cuts,
      float[] scales) {
    TensorBlocks blocks = TensorBlocks.of(tensor);
    int varianceCut = 0;
    double selectTopk = tensor.sce().selectTopk();
    if (selectTopk < 1) {
      RadixSelection variances = new RadixSelection(blocks, 1, (from, count, out) -> {
        float[][] deltas = deltas(tensor, inputs, from, count);
        float[] kept = new float[count];
        float[] squares = new float[count];
        // With a cut of 0 every element is kept, and the squares left behind are the variances times the count.
        selectByVariance(deltas, inputs.length, count, 0, kept, squares);
        float models = inputs.length - 1;
        for (int i = 0; i < count; i++) {
          out[0][i] = Float.floatToRawIntBits(squares[i] / models) & 0x7FFF_FFFF;
        }
      });
      long nonzero = tensor.elementCount() - variances.zeros(0);
      // mergekit multiplies the count, a tensor, by the fraction in float32.
      long k = (long) ((float) nonzero * (float) selectTopk);
      varianceCut = k == 0 ? KEEP_NONE : variances.kthLargest(new int[] {0}, new long[] {k})[0];
    }
    int cut = varianceCut;
    List<double[]> blockSquares = blocks.map(block -> {
      int count = blocks.length(block);
      float[][] deltas = deltas(tensor, inputs, blocks.start(block), count);
      float[] kept = new float[count];
      selectByVariance(deltas, inputs.length, count, cut, kept, new float[count]);
      double[] squares = new double[inputs.length];
      float[] selectedSquares = new float[count];
      for (int m = 1; m < inputs.length; m++) {
        float[] d = deltas[m];
        for (int i = 0; i < count; i++) {
          float selected = d[i] * kept[i];
          selectedSquares[i] = selected * selected;
        }
        squares[m] = LaneSums.sum(selectedSquares, count);
      }
      return squares;
    });
    double[] meanSquares = new double[inputs.length];
    for (double[] squares : blockSquares) {
      for (int m = 1; m < inputs.length; m++) {
        meanSquares[m] += squares[m];
      }
    }
    double total = 0;
    for (int m = 1; m < inputs.length; m++) {
      meanSquares[m] /= tensor.elementCount();
      total += meanSquares[m];
    }
    float[] weights = new float[inputs.length];
    for (int m = 1; m < inputs.length; m++) {
      weights[m] = Math.abs(total) < TINY_WEIGHT_SUM ? 1f / (inputs.length - 1) : (float) (meanSquares[m] / total);
    }
    return new TensorStatistics(cuts, scales, weights, varianceCut, new KeepMask[inputs.length]);
  }

  /** Every task vector over elements {@code [from, from + count)}: {@code [input][element]}, input 0 unused. */
  private static float[][] deltas(PlannedTensor tensor, ByteBuffer[] inputs, long from, int count) {
    float[][] deltas = new float[inputs.length][];
    float[] scratch = new float[count];
    for (int m = 1; m < inputs.length; m++) {
      deltas[m] = new float[count];
      TaskVectorView.of(tensor, inputs, m).load(from, count, deltas[m], scratch);
    }
    return deltas;
  }
}
