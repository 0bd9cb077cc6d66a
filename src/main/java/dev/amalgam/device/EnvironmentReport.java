package dev.amalgam.device;

import dev.amalgam.cuda.CudaAvailability;
import dev.amalgam.cuda.CudaDeviceInfo;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.cuda.NativeLibraries;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/**
 * What {@code amalgam doctor} shows: the Java runtime, the GPU backend (driver, GPUs, CUDA libraries,
 * NVRTC) and the CPU backend (libtorch). Every probe is guarded, so a machine with none of them still gets
 * a complete report with the reasons.
 */
public record EnvironmentReport(
    String javaVersion, String javaVendor, String os, String arch, Cuda cuda, List<Library> libraries,
    CpuBackend cpuBackend) {

  /**
   * @param driverVersion the CUDA version the driver supports ({@code 13.0}); null when unknown
   * @param nvrtcVersion null when NVRTC could not be loaded
   */
  public record Cuda(boolean available, String reason, String driverVersion, List<CudaDeviceInfo> gpus,
      String nvrtcVersion) {}

  /** @param path null when not found on the search path */
  public record Library(String name, String path) {}

  /** @param libtorchVersion null when libtorch could not be loaded */
  public record CpuBackend(boolean available, String libtorchVersion, String reason) {}

  public static EnvironmentReport collect() {
    return new EnvironmentReport(
        System.getProperty("java.version"),
        System.getProperty("java.vendor"),
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("os.arch"),
        probeCuda(),
        libraries(NativeLibraries.fromEnvironment()),
        probeCpuBackend());
  }

  private static Cuda probeCuda() {
    CudaAvailability availability = CudaAvailability.probe();
    int driver = availability.driverVersion();
    String driverVersion = driver == 0 ? null : (driver / 1000) + "." + (driver % 1000) / 10;
    return new Cuda(availability.available(), availability.reason(), driverVersion, availability.devices(),
        nvrtcVersion());
  }

  private static String nvrtcVersion() {
    try {
      return KernelCompiler.compilerVersion();
    } catch (LinkageError | RuntimeException e) {
      return null; // the CUDA section's reason already says why the bindings do not load
    }
  }

  static List<Library> libraries(NativeLibraries search) {
    List<Library> found = new ArrayList<>();
    for (Map.Entry<String, Optional<Path>> entry : search.findCudaLibraries().entrySet()) {
      found.add(new Library(entry.getKey(), entry.getValue().map(Path::toString).orElse(null)));
    }
    return found;
  }

  /** Loads libtorch through the PyTorch presets, looked up by name because the bundle may leave them out. */
  private static CpuBackend probeCpuBackend() {
    Class<?> torch;
    try {
      torch = Class.forName("org.bytedeco.pytorch.global.torch");
    } catch (ClassNotFoundException | LinkageError e) {
      return new CpuBackend(false, null, "the PyTorch presets (org.bytedeco:pytorch) are not on the class path");
    }
    try {
      Loader.load(torch);
      String presets = Loader.getVersion("org.bytedeco", "pytorch", torch);
      String libtorch = presets == null ? "unknown" : presets.split("-", 2)[0];
      return new CpuBackend(true, libtorch, null);
    } catch (LinkageError | Exception e) {
      return new CpuBackend(false, null, "cannot load libtorch: " + e);
    }
  }
}
