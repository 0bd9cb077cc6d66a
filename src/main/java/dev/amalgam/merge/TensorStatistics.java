package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The whole-tensor statistics of a tensor with task vectors, found in passes over its inputs before any chunk is
 * merged, for the element op to read:
 * <ul>
 *   <li>{@code cuts}: the magnitude cuts of TIES and breadcrumbs ({@link MagnitudeThresholds});
 *   <li>{@code scales}: per input, the L1 rescale factor {@code L1(δ) / L1(kept δ)} (1 where nothing is rescaled,
 *       or where either norm is under 1e-7, as in mergekit);
 *   <li>{@code weights}: SCE's per-model weights, the mean squares of the selected task vectors normalized to sum
 *       to 1 (1/n where that sum is under 1e-6); null for the plan's weights;
 *   <li>{@code varianceCut}: SCE's selection, the float32 bit pattern of the smallest variance across the task
 *       vectors that is kept ({@link #selectByVariance}); 0 keeps everything;
 *   <li>{@code keepMasks}: per input, what a random thinning kept, drawn once in the rescale pass, and for DELLA
 *       always, so that the GPU need not rank rows (null where not drawn: DARE's element op then draws itself, to
 *       the same bits).
 * </ul>
 * The passes ({@link StatisticsPasses}) run on the host or the GPU, to the same bits.
 */
record TensorStatistics(MagnitudeThresholds.Cuts cuts, float[] scales, float[] weights, int varianceCut,
    KeepMask[] keepMasks) {
  private static final double TINY_NORM = 1e-7;
  private static final double TINY_WEIGHT_SUM = 1e-6;
  /** A variance cut that keeps nothing: above every variance but the one NaN pattern arithmetic never makes. */
  static final int KEEP_NONE = Integer.MAX_VALUE;

  /** From the mapped inputs, on the host. */
  static TensorStatistics of(PlannedTensor tensor, ByteBuffer[] inputs) {
    return of(tensor, new HostStatisticsPasses(tensor, inputs));
  }

  static TensorStatistics of(PlannedTensor tensor, StatisticsPasses passes) {
    int n = tensor.inputs().size();
    Sparsification sparsification = tensor.sparsification();
    MagnitudeThresholds.Cuts cuts = sparsification != null && sparsification.kind().byMagnitude()
        ? MagnitudeThresholds.of(tensor, passes) : MagnitudeThresholds.Cuts.allKept(n);
    TensorStatistics unscaled = unscaled(cuts, 0);
    if (tensor.sce() != null) {
      return sce(tensor, passes, cuts);
    }
    if (sparsification == null
        || !sparsification.rescale() && sparsification.kind() != Sparsification.Kind.RANKED_RANDOM) {
      return unscaled;
    }
    int[] thinned = IntStream.range(1, n).filter(sparsification::thins).toArray();
    StatisticsPasses.Norms[] norms = passes.l1(thinned, unscaled);
    float[] scales = unscaled.scales();
    KeepMask[] keepMasks = unscaled.keepMasks();
    for (int c = 0; c < thinned.length; c++) {
      int m = thinned[c];
      keepMasks[m] = norms[c].kept();
      double before = norms[c].before();
      double after = norms[c].after();
      if (sparsification.rescale() && before >= TINY_NORM && after >= TINY_NORM) {
        scales[m] = (float) (before / after);
      }
    }
    return new TensorStatistics(cuts, scales, null, 0, keepMasks);
  }

  /**
   * Statistics with {@code cuts} and {@code varianceCut} found, scales of 1 and no masks or weights: what the passes
   * that come after the cuts thin by.
   */
  static TensorStatistics unscaled(MagnitudeThresholds.Cuts cuts, int varianceCut) {
    int n = cuts.keepFrom().length;
    float[] scales = new float[n];
    Arrays.fill(scales, 1f);
    return new TensorStatistics(cuts, scales, null, varianceCut, new KeepMask[n]);
  }

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
  private static TensorStatistics sce(PlannedTensor tensor, StatisticsPasses passes, MagnitudeThresholds.Cuts cuts) {
    int n = tensor.inputs().size();
    int varianceCut = 0;
    double selectTopk = tensor.sce().selectTopk();
    if (selectTopk < 1) {
      BitSelection variances = passes.variances();
      long nonzero = tensor.elementCount() - variances.zeros(0);
      // mergekit multiplies the count, a tensor, by the fraction in float32.
      long k = (long) ((float) nonzero * (float) selectTopk);
      varianceCut = k == 0 ? KEEP_NONE : variances.kthLargest(new int[] {0}, new long[] {k})[0];
    }
    double[] meanSquares = passes.selectedSquares(varianceCut);
    double total = 0;
    for (int m = 1; m < n; m++) {
      meanSquares[m] /= tensor.elementCount();
      total += meanSquares[m];
    }
    float[] weights = new float[n];
    for (int m = 1; m < n; m++) {
      weights[m] = Math.abs(total) < TINY_WEIGHT_SUM ? 1f / (n - 1) : (float) (meanSquares[m] / total);
    }
    TensorStatistics selected = unscaled(cuts, varianceCut);
    return new TensorStatistics(cuts, selected.scales(), weights, varianceCut, selected.keepMasks());
  }
}
