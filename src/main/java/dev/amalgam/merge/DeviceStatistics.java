package dev.amalgam.merge;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;

/**
 * {@link StatisticsPasses} on the GPU, by merge.cu's statistics kernels over a tensor's inputs already in device
 * memory: histograms of bit patterns for the magnitude cuts and SCE's variance cut, and float64 block sums for the L1
 * rescale and SCE's weights. Only the histograms and the sums come back to the host, which walks and adds them as
 * the host passes do, so {@code TensorStatistics.of(tensor, deviceStatistics)} equals the host's bit for bit.
 *
 * <p>DELLA's draws depend on each element's magnitude rank within its row: {@code merge_della_keep_bits} ranks and
 * draws on the device into keep bits the caller provides, which the L1 sums and then the element op read. DARE's
 * draws are not kept: the element op draws the same bits again.
 */
final class DeviceStatistics implements StatisticsPasses {
  /** Device memory for the passes' results, on the stream the launches go to. */
  interface Workspace {
    /** A device region of {@code bytes} zero bytes, valid until the next call. */
    long zeroed(long bytes);

    /** {@code bytes} from {@code address}, little-endian, once the launches so far have finished. */
    ByteBuffer read(long address, long bytes);

    /** Zeroes {@code bytes} of device memory at {@code address}, in order with the launches. */
    void zero(long address, long bytes);
  }

  private static final int SUMS_PER_BLOCK = 2 * MergeKernelArgs.MAX_INPUTS;

  private final PlannedTensor tensor;
  private final long[] inputs;
  private final KernelLauncher kernels;
  private final Workspace workspace;
  private final long[] keepBits;
  private final TensorBlocks blocks;

  /**
   * The passes over {@code tensor}, whose inputs are at device addresses {@code inputs}, the whole tensor each;
   * DELLA's draws go to {@code keepBits} (per input, room for a bit per element; see {@link ResidentInputs}).
   */
  DeviceStatistics(PlannedTensor tensor, long[] inputs, long[] keepBits, KernelLauncher kernels,
      Workspace workspace) {
    this.tensor = tensor;
    this.inputs = inputs;
    this.keepBits = keepBits;
    this.kernels = kernels;
    this.workspace = workspace;
    this.blocks = TensorBlocks.of(tensor);
  }

  /**
   * Whether this tensor has statistics to find and the GPU finds them: task vectors cut by magnitude, drawn by
   * DELLA, rescaled after a draw, or selected by SCE, with histogram counts that fit 32 bits.
   */
  static boolean supports(PlannedTensor tensor) {
    Sparsification sparsification = tensor.sparsification();
    boolean passes = tensor.sce() != null || sparsification != null && (sparsification.kind().byMagnitude()
        || sparsification.rescale() || sparsification.kind() == Sparsification.Kind.RANKED_RANDOM);
    return passes && tensor.taskVectors() && tensor.rule() == null && tensor.elementCount() < 1L << 32;
  }

  /** The statistics of {@code tensor} (see the constructor). */
  static TensorStatistics of(PlannedTensor tensor, long[] inputs, long[] keepBits, KernelLauncher kernels,
      Workspace workspace) {
    if (!supports(tensor)) {
      throw new IllegalArgumentException("the GPU does not find the statistics of " + tensor.name());
    }
    return TensorStatistics.of(tensor, new DeviceStatistics(tensor, inputs, keepBits, kernels, workspace));
  }

  @Override
  public BitSelection magnitudes(int[] thinned) {
    int channels = 0;
    for (int m : thinned) {
      channels |= 1 << m;
    }
    return select(MergeKernel.STATISTIC_MAGNITUDE, channels, thinned);
  }

  @Override
  public BitSelection variances() {
    return select(MergeKernel.STATISTIC_VARIANCE, 1, new int[] {0});
  }

  /** A selection whose channel c counts in histogram slot {@code slots[c]}. */
  private BitSelection select(int statistic, int channels, int[] slots) {
    MergeKernelArgs args = args(TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(inputs.length), 0),
        new long[inputs.length]);
    long[][] high = new long[slots.length][];
    long histogram = workspace.zeroed((long) MergeKernelArgs.MAX_INPUTS * MergeKernel.HISTOGRAM_SLOT * Integer.BYTES);
    MergeKernel.histogram(kernels, args, histogram, statistic, channels, MergeKernel.HIGH_PASS);
    ByteBuffer counts = workspace.read(histogram, (long) MergeKernelArgs.MAX_INPUTS * MergeKernel.HISTOGRAM_SLOT
        * Integer.BYTES);
    for (int c = 0; c < slots.length; c++) {
      high[c] = slot(counts, slots[c], MergeKernel.HISTOGRAM_SLOT);
    }
    return new BitSelection() {
      @Override
      public long zeros(int c) {
        return high[c][BINS];
      }

      /** One low pass per query: the queries are few (one or two per task vector). */
      @Override
      public int[] kthLargest(int[] channelOf, long[] ks) {
        int[] answers = new int[ks.length];
        for (int q = 0; q < ks.length; q++) {
          int c = channelOf[q];
          Bin bin = Bin.of(high[c], ks[q], 0);
          int slot = slots[c];
          long bytes = (long) (slot + 1) * MergeKernel.HISTOGRAM_SLOT * Integer.BYTES;
          long low = workspace.zeroed(bytes);
          MergeKernel.histogram(kernels, args, low, statistic, statistic == MergeKernel.STATISTIC_MAGNITUDE
              ? 1 << slot : channels, bin.bin());
          answers[q] = bin.bin() << 16 | Bin.of(slot(workspace.read(low, bytes), slot, BINS), ks[q], bin.above()).bin();
        }
        return answers;
      }
    };
  }

  /** The first {@code length} counts of histogram slot {@code slot}, widened. */
  private static long[] slot(ByteBuffer counts, int slot, int length) {
    long[] values = new long[length];
    int at = slot * MergeKernel.HISTOGRAM_SLOT;
    for (int i = 0; i < length; i++) {
      values[i] = Integer.toUnsignedLong(counts.getInt((at + i) * Integer.BYTES));
    }
    return values;
  }

  /** For DELLA, its draws first, into the keep bits the sums (and later the element op) read. */
  @Override
  public Norms[] l1(int[] thinned, TensorStatistics unscaled) {
    int channels = 0;
    for (int m : thinned) {
      channels |= 1 << m;
    }
    Sparsification sparsification = tensor.sparsification();
    long[] drawn = new long[inputs.length];
    if (sparsification.kind() == Sparsification.Kind.RANKED_RANDOM) {
      MergeKernelArgs args = args(unscaled, drawn);
      long cols = RankedProbabilities.rowLength(tensor.shape());
      for (int m : thinned) {
        workspace.zero(keepBits[m], KeepMask.wordBytes(tensor.elementCount()));
        double density = sparsification.densities()[m];
        double epsilon = sparsification.epsilons()[m];
        MergeKernel.dellaKeepBits(kernels, args, keepBits[m], m, cols, (float) (density - epsilon), (float) epsilon);
        drawn[m] = keepBits[m];
      }
    }
    double[][] sums = blockSums(MergeKernel.STATISTIC_MAGNITUDE, channels, args(unscaled, drawn));
    Norms[] norms = new Norms[thinned.length];
    for (int c = 0; c < thinned.length; c++) {
      norms[c] = new Norms(sums[thinned[c]][0], sums[thinned[c]][1], null);
    }
    return norms;
  }

  @Override
  public double[] selectedSquares(int varianceCut) {
    double[][] sums = blockSums(MergeKernel.STATISTIC_VARIANCE, 0, args(
        TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(inputs.length), varianceCut),
        new long[inputs.length]));
    double[] squares = new double[inputs.length];
    for (int m = 1; m < inputs.length; m++) {
      squares[m] = sums[m][0];
    }
    return squares;
  }

  /** Per input, its two block sums added up in block order, as the host adds its blocks. */
  private double[][] blockSums(int statistic, int channels, MergeKernelArgs args) {
    long count = blocks.count();
    long bytes = count * SUMS_PER_BLOCK * Double.BYTES;
    long sums = workspace.zeroed(bytes);
    MergeKernel.blockSums(kernels, args, sums, statistic, channels, blocks.blockLength());
    ByteBuffer perBlock = workspace.read(sums, bytes);
    double[][] totals = new double[inputs.length][2];
    for (long block = 0; block < count; block++) {
      for (int m = 1; m < inputs.length; m++) {
        for (int k = 0; k < 2; k++) {
          totals[m][k] += perBlock.getDouble(Math.toIntExact(((block * SUMS_PER_BLOCK) + 2 * m + k) * Double.BYTES));
        }
      }
    }
    return totals;
  }

  /** The whole tensor's arguments, thinned by {@code statistics} and the keep bits at {@code drawn} (0: none). */
  private MergeKernelArgs args(TensorStatistics statistics, long[] drawn) {
    DType[] types = tensor.inputs().stream().map(TensorInfo::dtype).toArray(DType[]::new);
    return new MergeKernelArgs(inputs, types, tensor.weights(), tensor.divisor(), tensor.normalize(), 0,
        tensor.outDType(), tensor.elementCount(), MergeKernelArgs.TaskVectors.of(tensor, statistics, 0, drawn), null,
        tensor.rounding());
  }
}
