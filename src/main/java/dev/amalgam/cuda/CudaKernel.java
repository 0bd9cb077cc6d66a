package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.javacpp.PointerPointer;

/** One kernel of a loaded module, with its argument slots built once ({@link KernelArgs}). */
final class CudaKernel implements AutoCloseable {
  private final KernelSignature signature;
  private final CUfunc_st function;
  private final KernelArgs args;

  CudaKernel(KernelSignature signature, CUfunc_st function) {
    this.signature = signature;
    this.function = function;
    this.args = new KernelArgs(signature);
  }

  /** Enqueues the kernel; errors of the run itself surface at the next synchronization. */
  synchronized void launch(CudaStream stream, LaunchGrid grid, Object... values) {
    PointerPointer<?> pointers = args.set(values);
    CudaException.check(cuLaunchKernel(function, grid.x(), grid.y(), grid.z(), grid.threads(), 1, 1, 0,
        stream.handle(), pointers, (PointerPointer<?>) null), "cuLaunchKernel(" + signature.name() + ")");
  }

  @Override
  public synchronized void close() {
    args.close();
  }
}
