package dev.amalgam.merge;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelParam;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LaunchGrid;
import dev.amalgam.cuda.LoadedKernels;
import java.util.List;

/**
 * The kernels of {@code cuda-kernels/merge.cu}: {@code merge_weighted_sum}, the element op (the weighted sum of up
 * to 8 tensors in float32, rounded once, and its task-vector and pair variants), where each thread handles 8
 * elements per step with 16-byte loads when every address is 16-byte aligned, and the grid strides over the rest;
 * and the whole-tensor statistics before it ({@link DeviceStatistics}). The static methods are their typed
 * launchers, which the merge pipeline and the CPU emulation in the tests both call.
 */
public final class MergeKernel implements AutoCloseable {
  static final String FILE = "merge.cu";
  static final KernelSignature WEIGHTED_SUM = KernelSignature.of(FILE, "merge_weighted_sum",
      KernelParam.struct(MergeKernelArgs.SIZE));
  static final KernelSignature HISTOGRAM = KernelSignature.of(FILE, "merge_statistics_histogram",
      KernelParam.struct(MergeKernelArgs.SIZE), KernelParam.POINTER, KernelParam.INT, KernelParam.INT, KernelParam.INT);
  static final KernelSignature BLOCK_SUMS = KernelSignature.of(FILE, "merge_statistics_block_sums",
      KernelParam.struct(MergeKernelArgs.SIZE), KernelParam.POINTER, KernelParam.INT, KernelParam.INT,
      KernelParam.LONG);
  static final KernelSignature DELLA_KEEP_BITS = KernelSignature.of(FILE, "merge_della_keep_bits",
      KernelParam.struct(MergeKernelArgs.SIZE), KernelParam.POINTER, KernelParam.INT, KernelParam.LONG,
      KernelParam.FLOAT, KernelParam.FLOAT);
  /** What the statistics kernels compute, as merge.cu numbers it: task vector magnitudes, or SCE's variances. */
  static final int STATISTIC_MAGNITUDE = 0;
  static final int STATISTIC_VARIANCE = 1;
  /** The histogram pass over the high 16 bits; a low pass names the high bin instead. */
  static final int HIGH_PASS = -1;
  /** A histogram channel's bins: 2¹⁶, and the count of zeros. */
  static final int HISTOGRAM_SLOT = (1 << 16) + 1;
  /** The block sums kernel's lanes, which {@link LaneSums} adds in the same tree. */
  static final int SUM_THREADS = LaneSums.LANES;
  /** Belt and braces: the kernel already uses __fmul_rn/__fadd_rn, which never contract into an FMA. */
  static final List<String> OPTIONS = List.of("--fmad=false", "--ftz=false", "--prec-div=true");

  static final int THREADS_PER_BLOCK = 256;
  static final int ELEMENTS_PER_THREAD = 8;
  /** Enough resident blocks to saturate memory bandwidth; more would only add scheduling. */
  static final int BLOCKS_PER_MULTIPROCESSOR = 16;

  private final LoadedKernels kernels;

  private MergeKernel(LoadedKernels kernels) {
    this.kernels = kernels;
  }

  /** Compiles (or takes from the cache) and loads the kernel into the current context. */
  public static MergeKernel load(CudaContext context, KernelCompiler compiler) {
    return new MergeKernel(LoadedKernels.load(context, compiler, List.of(WEIGHTED_SUM, HISTOGRAM, BLOCK_SUMS,
        DELLA_KEEP_BITS),
        file -> OPTIONS));
  }

  /** A launcher of the kernel on {@code stream}. */
  public KernelLauncher on(CudaStream stream) {
    return kernels.on(stream);
  }

  /** Enqueues the merge of {@code args}; errors of the run itself surface at the next synchronization. */
  public static void weightedSum(KernelLauncher k, MergeKernelArgs args) {
    if (args.count() == 0) {
      return;
    }
    long threadsNeeded = (args.count() + ELEMENTS_PER_THREAD - 1) / ELEMENTS_PER_THREAD;
    k.launch(WEIGHTED_SUM, LaunchGrid.of(gridStrideBlocks(k, threadsNeeded), THREADS_PER_BLOCK), args.encode());
  }

  /**
   * Enqueues histogram counts of {@code statistic}'s bit patterns over the launch's {@code args.count()} elements
   * into {@code histogram} ({@link #HISTOGRAM_SLOT} unsigned ints per input slot, added to what is there): for
   * magnitudes, the inputs whose bit is set in {@code channels}; for variances, slot 0. {@code highBin} is
   * {@link #HIGH_PASS}, or the high 16 bits whose low 16 bits are counted.
   */
  static void histogram(KernelLauncher k, MergeKernelArgs args, long histogram, int statistic, int channels,
      int highBin) {
    if (args.count() > 0) {
      k.launch(HISTOGRAM, LaunchGrid.of(gridStrideBlocks(k, args.count()), THREADS_PER_BLOCK), args.encode(), histogram,
          statistic, channels, highBin);
    }
  }

  /**
   * Enqueues the float64 sums of {@code statistic} over every block of {@code blockLength} elements of the launch
   * into {@code sums}: {@code 2 × MAX_INPUTS} doubles per block (see merge.cu).
   */
  static void blockSums(KernelLauncher k, MergeKernelArgs args, long sums, int statistic, int channels,
      long blockLength) {
    long blocks = (args.count() + blockLength - 1) / blockLength;
    if (blocks > 0) {
      k.launch(BLOCK_SUMS, LaunchGrid.of(Math.toIntExact(blocks), SUM_THREADS), args.encode(), sums, statistic,
          channels, blockLength);
    }
  }

  /**
   * Enqueues DELLA's draws for {@code input} over the launch's rows of {@code cols} elements, into {@code keepBits}
   * (zeroed words, a bit per element): {@code low} is density − ε and {@code epsilon} ε, both as float32.
   */
  static void dellaKeepBits(KernelLauncher k, MergeKernelArgs args, long keepBits, int input, long cols, float low,
      float epsilon) {
    long rows = args.count() / cols;
    if (rows > 0) {
      k.launch(DELLA_KEEP_BITS, LaunchGrid.of(Math.toIntExact(rows), THREADS_PER_BLOCK), args.encode(), keepBits,
          input, cols, low, epsilon);
    }
  }

  /** Enough blocks of {@link #THREADS_PER_BLOCK} for {@code threadsNeeded}, up to what saturates the device. */
  private static int gridStrideBlocks(KernelLauncher k, long threadsNeeded) {
    long maxBlocks = Math.max(1L, (long) k.multiprocessors() * BLOCKS_PER_MULTIPROCESSOR);
    return (int) Math.min(maxBlocks, (threadsNeeded + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK);
  }

  @Override
  public void close() {
    kernels.close();
  }
}
