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
 * {@code merge_weighted_sum} from {@code cuda-kernels/merge.cu}: the weighted sum of up to 8 tensors in
 * float32, rounded once. Each thread handles 8 elements per step with 16-byte loads when every address is
 * 16-byte aligned, and the grid strides over the rest. {@link #weightedSum} is its typed launcher, which the
 * merge pipeline and the CPU emulation in the tests both call.
 */
public final class MergeKernel implements AutoCloseable {
  static final String FILE = "merge.cu";
  static final KernelSignature WEIGHTED_SUM = KernelSignature.of(FILE, "merge_weighted_sum",
      KernelParam.struct(MergeKernelArgs.SIZE));
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
    return new MergeKernel(LoadedKernels.load(context, compiler, List.of(WEIGHTED_SUM), file -> OPTIONS));
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
    long maxBlocks = Math.max(1L, (long) k.multiprocessors() * BLOCKS_PER_MULTIPROCESSOR);
    int blocks = (int) Math.min(maxBlocks, (threadsNeeded + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK);
    k.launch(WEIGHTED_SUM, LaunchGrid.of(blocks, THREADS_PER_BLOCK), args.encode());
  }

  @Override
  public void close() {
    kernels.close();
  }
}
