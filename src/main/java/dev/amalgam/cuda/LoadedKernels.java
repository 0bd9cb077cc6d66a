package dev.amalgam.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Kernels compiled with NVRTC (or taken from the kernel cache) and loaded into the current context, one module
 * per .cu file, found by signature. {@link #on} gives a launcher that enqueues them on one stream.
 */
public final class LoadedKernels implements AutoCloseable {
  private final CudaDeviceInfo device;
  private final List<CudaModule> modules = new ArrayList<>();
  private final Map<KernelSignature, CudaKernel> kernels = new LinkedHashMap<>();

  private LoadedKernels(CudaDeviceInfo device) {
    this.device = device;
  }

  /**
   * Loads every kernel of {@code signatures}, compiling each file once with {@code optionsFor} its name.
   */
  public static LoadedKernels load(CudaContext context, KernelCompiler compiler, List<KernelSignature> signatures,
      Function<String, List<String>> optionsFor) {
    LoadedKernels loaded = new LoadedKernels(context.device());
    try {
      Map<String, CudaModule> byFile = new LinkedHashMap<>();
      for (KernelSignature signature : signatures) {
        CudaModule module = byFile.get(signature.file());
        if (module == null) {
          module = compiler.load(KernelSource.load(signature.file()), context.device(),
              optionsFor.apply(signature.file()));
          byFile.put(signature.file(), module);
          loaded.modules.add(module);
        }
        loaded.kernels.put(signature, new CudaKernel(signature, module.function(signature.name())));
      }
      return loaded;
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
  }

  /** A launcher of these kernels on {@code stream}. */
  public KernelLauncher on(CudaStream stream) {
    return new StreamLauncher(stream);
  }

  private final class StreamLauncher implements KernelLauncher {
    private final CudaStream stream;

    StreamLauncher(CudaStream stream) {
      this.stream = stream;
    }

    @Override
    public int multiprocessors() {
      return device.multiprocessors();
    }

    @Override
    public void launch(KernelSignature kernel, LaunchGrid grid, Object... args) {
      CudaKernel loaded = kernels.get(kernel);
      if (loaded == null) {
        throw new IllegalArgumentException("kernel " + kernel.name() + " of " + kernel.file() + " is not loaded");
      }
      loaded.launch(stream, grid, args);
    }
  }

  @Override
  public void close() {
    kernels.values().forEach(CudaKernel::close);
    kernels.clear();
    modules.forEach(CudaModule::close);
    modules.clear();
  }
}
