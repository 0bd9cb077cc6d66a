package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cuModuleUnload;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.javacpp.BytePointer;

/** A loaded CUBIN image in the current context; its functions live as long as it does. */
public final class CudaModule implements AutoCloseable {
  private final CUmod_st module;
  private boolean unloaded;

  private CudaModule(CUmod_st module) {
    this.module = module;
  }

  public static CudaModule load(byte[] cubin) {
    CUmod_st module = new CUmod_st();
    try (BytePointer image = new BytePointer(cubin)) {
      CudaException.check(cuModuleLoadData(module, image), "cuModuleLoadData");
    }
    return new CudaModule(module);
  }

  /** An {@code extern "C"} kernel by its unmangled name. */
  public CUfunc_st function(String name) {
    CUfunc_st function = new CUfunc_st();
    CudaException.check(cuModuleGetFunction(function, module, name), "cuModuleGetFunction(" + name + ")");
    return function;
  }

  @Override
  public synchronized void close() {
    if (!unloaded) {
      unloaded = true;
      CudaException.check(cuModuleUnload(module), "cuModuleUnload");
    }
  }
}
