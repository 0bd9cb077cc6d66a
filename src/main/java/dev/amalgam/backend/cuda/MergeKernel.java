package dev.amalgam.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;

import java.util.List;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@code merge_weighted_sum} from {@code cuda-kernels/merge.cu}: the weighted sum of up to 8 tensors in
 * float32, rounded once. Each thread handles 8 elements per step with 16-byte loads when every address is
 * 16-byte aligned, and the grid strides over the rest.
 */
public final class MergeKernel implements AutoCloseable {
  static final String FUNCTION = "merge_weighted_sum";
  /** Belt and braces: the kernel already uses __fmul_rn/__fadd_rn, which never contract into an FMA. */
  static final List<String> OPTIONS = List.of("--fmad=false", "--ftz=false", "--prec-div=true");

  private static final int THREADS_PER_BLOCK = 256;
  private static final int ELEMENTS_PER_THREAD = 8;
  /** Enough resident blocks to saturate memory bandwidth; more would only add scheduling. */
  private static final int BLOCKS_PER_MULTIPROCESSOR = 16;

  private final CudaModule module;
  private final CUfunc_st function;
  private final int maxBlocks;
  // Built once: cuLaunchKernel copies the argument values at launch, so they can be rewritten afterwards.
  private final BytePointer argsStruct = new BytePointer(MergeKernelArgs.SIZE);
  private final PointerPointer<BytePointer> argPointers = new PointerPointer<>(1);

  private MergeKernel(CudaModule module, CudaDeviceInfo device) {
    this.module = module;
    this.function = module.function(FUNCTION);
    this.maxBlocks = Math.max(1, device.multiprocessors() * BLOCKS_PER_MULTIPROCESSOR);
    argPointers.put(0, argsStruct);
  }

  /** Compiles (or takes from the cache) and loads the kernel into the current context. */
  public static MergeKernel load(CudaContext context, KernelCompiler compiler) {
    CudaModule module = compiler.load(KernelSource.load("merge.cu"), context.device(), OPTIONS);
    try {
      return new MergeKernel(module, context.device());
    } catch (RuntimeException e) {
      module.close();
      throw e;
    }
  }

  /** Enqueues the kernel on {@code stream}; errors of the run itself surface at the next synchronization. */
  public synchronized void launch(CudaStream stream, MergeKernelArgs args) {
    if (args.count() == 0) {
      return;
    }
    argsStruct.position(0).put(args.encode());
    long threadsNeeded = (args.count() + ELEMENTS_PER_THREAD - 1) / ELEMENTS_PER_THREAD;
    int blocks = (int) Math.min(maxBlocks, (threadsNeeded + THREADS_PER_BLOCK - 1) / THREADS_PER_BLOCK);
    CudaException.check(
        cuLaunchKernel(function, blocks, 1, 1, THREADS_PER_BLOCK, 1, 1, 0, stream.handle(), argPointers,
            (PointerPointer<?>) null),
        "cuLaunchKernel(" + FUNCTION + ")");
  }

  @Override
  public synchronized void close() {
    argPointers.close();
    argsStruct.close();
    module.close();
  }
}
