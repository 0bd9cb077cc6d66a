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
 * <p>DELLA ranks magnitudes within rows, which these kernels do not: its statistics stay on the host ({@link
 * #supports}). DARE's draws are not kept: the element op draws the same bits again.
 */
final class DeviceStatistics implements StatisticsPasses {
  /** Device memory for the passes' results, on the stream the launches go to. */
  interface Workspace {
    /** A device region of {@code bytes} zero bytes, valid until the next call. */
    long zeroed(long bytes);

    /** {@code bytes} from {@code address}, little-endian, once the launches so far have finished. */
    ByteBuffer read(long address, long bytes);
  }

  private static final int SUMS_PER_BLOCK = 2 * MergeKernelArgs.MAX_INPUTS;

  private final PlannedTensor tensor;
  private final long[] inputs;
  private final KernelLauncher kernels;
  private final Workspace workspace;
  private final TensorBlocks blocks;

  /** The passes over {@code tensor}, whose inputs are at device addresses {@code inputs}, the whole tensor each. */
  DeviceStatistics(PlannedTensor tensor, long[] inputs, KernelLauncher kernels, Workspace workspace) {
    this.tensor = tensor;
    this.inputs = inputs;
    this.kernels = kernels;
    this.workspace = workspace;
    this.blocks = TensorBlocks.of(tensor);
  }

  /**
   * Whether this tensor has statistics to find and the GPU finds them: task vectors cut by magnitude, rescaled
   * after a draw without ranks, or selected by SCE, with histogram counts that fit 32 bits.
   */
  static boolean supports(PlannedTensor tensor) {
    Sparsification sparsification = tensor.sparsification();
    boolean passes = tensor.sce() != null
        || sparsification != null && (sparsification.kind().byMagnitude() || sparsification.rescale());
    return passes && tensor.taskVectors() && tensor.rule() == null && tensor.elementCount() < 1L << 32
        && (sparsification == null || sparsification.kind() != Sparsification.Kind.RANKED_RANDOM);
  }

  /** The statistics of {@code tensor}, whose inputs are at device addresses {@code inputs}, the whole tensor each. */
  static TensorStatistics of(PlannedTensor tensor, long[] inputs, KernelLauncher kernels, Workspace workspace) {
    if (!supports(tensor)) {
      throw new IllegalArgumentException("the GPU does not find the statistics of " + tensor.name());
    }
    return TensorStatistics.of(tensor, new DeviceStatistics(tensor, inputs, kernels, workspace));
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
    MergeKernelArgs args = args(TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(inputs.length), 0));
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

  @Override
  public Norms[] l1(int[] thinned, TensorStatistics unscaled) {
    int channels = 0;
    for (int m : thinned) {
      channels |= 1 << m;
    }
    double[][] sums = blockSums(MergeKernel.STATISTIC_MAGNITUDE, channels, unscaled);
    Norms[] norms = new Norms[thinned.length];
    for (int c = 0; c < thinned.length; c++) {
      norms[c] = new Norms(sums[thinned[c]][0], sums[thinned[c]][1], null);
    }
    return norms;
  }

  @Override
  public double[] selectedSquares(int varianceCut) {
    double[][] sums = blockSums(MergeKernel.STATISTIC_VARIANCE, 0,
        TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(inputs.length), varianceCut));
    double[] squares = new double[inputs.length];
    for (int m = 1; m < inputs.length; m++) {
      squares[m] = sums[m][0];
    }
    return squares;
  }

  /** Per input, its two block sums added up in block order, as the host adds its blocks. */
  private double[][] blockSums(int statistic, int channels, TensorStatistics statistics) {
    long count = blocks.count();
    long bytes = count * SUMS_PER_BLOCK * Double.BYTES;
    long sums = workspace.zeroed(bytes);
    MergeKernel.blockSums(kernels, args(statistics), sums, statistic, channels, blocks.blockLength());
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

  /** The whole tensor's arguments, thinned by {@code statistics}. */
  private MergeKernelArgs args(TensorStatistics statistics) {
    DType[] types = tensor.inputs().stream().map(TensorInfo::dtype).toArray(DType[]::new);
    return new MergeKernelArgs(inputs, types, tensor.weights(), tensor.divisor(), tensor.normalize(), 0,
        tensor.outDType(), tensor.elementCount(), MergeKernelArgs.TaskVectors.of(tensor, statistics, 0,
            new long[inputs.length]), null, tensor.rounding());
  }
}
