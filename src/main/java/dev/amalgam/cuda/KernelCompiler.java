package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.nvrtc.NVRTC_ERROR_COMPILATION;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcDestroyProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBIN;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBINSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Compiles kernel sources with NVRTC straight to CUBIN for the GPU at hand ({@code --gpu-architecture=sm_XX}
 * yields CUBIN, not PTX, so the driver has nothing left to JIT) and keeps the result in a {@link KernelCache}.
 * NVRTC optimizes by default and rejects {@code -O3}, so no optimization flag is passed.
 */
public final class KernelCompiler {
  private final KernelCache cache;

  public KernelCompiler(KernelCache cache) {
    this.cache = cache;
  }

  /** Loads {@code source} into the current context, compiling it first unless the cache has it. */
  public CudaModule load(KernelSource source, CudaDeviceInfo device, List<String> extraOptions) {
    return CudaModule.load(cubin(source, device, extraOptions));
  }

  public byte[] cubin(KernelSource source, CudaDeviceInfo device, List<String> extraOptions) {
    List<String> options = new ArrayList<>();
    options.add("--gpu-architecture=" + device.architecture());
    options.add("--std=c++17");
    options.addAll(extraOptions);
    String key = KernelCache.key(source.text(), device.architecture(), options, compilerVersion());
    Optional<byte[]> cached = cache.read(source.baseName(), key);
    if (cached.isPresent()) {
      return cached.get();
    }
    byte[] cubin = compile(source, options);
    try {
      cache.write(source.baseName(), key, cubin);
    } catch (IOException e) {
      // The compiled image is still good; only the next start pays for compiling again.
      System.err.println("warning: cannot cache compiled kernel in " + cache.dir() + ": " + e.getMessage());
    }
    return cubin;
  }

  /** {@code 13.0}: part of the cache key, since a new compiler may emit different code. */
  public static String compilerVersion() {
    int[] major = new int[1];
    int[] minor = new int[1];
    CudaException.checkNvrtc(org.bytedeco.cuda.global.nvrtc.nvrtcVersion(major, minor), "nvrtcVersion");
    return major[0] + "." + minor[0];
  }

  private static byte[] compile(KernelSource source, List<String> options) {
    _nvrtcProgram program = new _nvrtcProgram();
    try (BytePointer text = new BytePointer(source.text(), StandardCharsets.UTF_8);
        BytePointer name = new BytePointer(source.fileName(), StandardCharsets.UTF_8)) {
      CudaException.checkNvrtc(
          nvrtcCreateProgram(program, text, name, 0, (PointerPointer<?>) null, (PointerPointer<?>) null),
          "nvrtcCreateProgram(" + source.fileName() + ")");
    }
    try (PointerPointer<BytePointer> optionPointers = new PointerPointer<>(options.toArray(new String[0]))) {
      int result = nvrtcCompileProgram(program, options.size(), optionPointers);
      if (result == NVRTC_ERROR_COMPILATION) {
        throw new CudaException("NVRTC could not compile " + source.fileName() + " with " + options + ":\n"
            + log(program), result);
      }
      CudaException.checkNvrtc(result, "nvrtcCompileProgram(" + source.fileName() + ")");
      try (SizeTPointer size = new SizeTPointer(1)) {
        CudaException.checkNvrtc(nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
        byte[] cubin = new byte[Math.toIntExact(size.get())];
        CudaException.checkNvrtc(nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
        return cubin;
      }
    } finally {
      CudaException.checkNvrtc(nvrtcDestroyProgram(program), "nvrtcDestroyProgram");
    }
  }

  private static String log(_nvrtcProgram program) {
    try (SizeTPointer size = new SizeTPointer(1)) {
      CudaException.checkNvrtc(nvrtcGetProgramLogSize(program, size), "nvrtcGetProgramLogSize");
      byte[] log = new byte[Math.toIntExact(size.get())];
      CudaException.checkNvrtc(nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog");
      int length = log.length;
      while (length > 0 && log[length - 1] == 0) {
        length--;
      }
      return new String(log, 0, length, StandardCharsets.UTF_8);
    }
  }
}
