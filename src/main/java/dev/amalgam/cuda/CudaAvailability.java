package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetCount;
import static org.bytedeco.cuda.global.cudart.cuDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cuInit;

import dev.amalgam.UserError;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

/**
 * Whether this process can use the GPU backend, found out once. A machine without a driver, without the CUDA
 * 13 libraries or without a GPU is a normal answer with a one-line reason, never a crash: loading the JavaCPP
 * presets there throws {@link UnsatisfiedLinkError}, which is caught here and nowhere else.
 *
 * @param reason why the backend is unusable; null when it is usable
 * @param driverVersion the CUDA version the driver supports, e.g. 13000 for 13.0; 0 when unknown
 */
public record CudaAvailability(String reason, int driverVersion, List<CudaDeviceInfo> devices) {
  private static CudaAvailability probed;

  public boolean available() {
    return reason == null;
  }

  /** The probe's answer for this process (the first call loads the bindings and calls cuInit). */
  public static synchronized CudaAvailability probe() {
    if (probed == null) {
      probed = runProbe(NativeLibraries.fromEnvironment());
    }
    return probed;
  }

  /** The device to merge on, or a {@link UserError} saying why there is none. */
  public static CudaDeviceInfo requireDevice(int ordinal) {
    CudaAvailability availability = probe();
    if (!availability.available()) {
      throw new UserError("no GPU backend: " + availability.reason());
    }
    if (ordinal < 0 || ordinal >= availability.devices().size()) {
      throw new UserError("no CUDA device " + ordinal + "; this machine has " + availability.devices().size());
    }
    return availability.devices().get(ordinal);
  }

  private static CudaAvailability runProbe(NativeLibraries libraries) {
    try {
      Loader.load(cudart.class);
      Loader.load(nvrtc.class);
    } catch (LinkageError e) {
      return unavailable(explainLoadFailure(e, libraries));
    }
    int init = cuInit(0);
    if (init != CUDA_SUCCESS) {
      return unavailable("cuInit failed: " + CudaException.describe(init));
    }
    int[] version = new int[1];
    CudaException.check(cuDriverGetVersion(version), "cuDriverGetVersion");
    int[] count = new int[1];
    int counted = cuDeviceGetCount(count);
    if (counted != CUDA_SUCCESS) {
      return new CudaAvailability("cuDeviceGetCount failed: " + CudaException.describe(counted), version[0], List.of());
    }
    if (count[0] == 0) {
      return new CudaAvailability("the CUDA driver sees no GPU", version[0], List.of());
    }
    List<CudaDeviceInfo> devices = new ArrayList<>();
    for (int i = 0; i < count[0]; i++) {
      devices.add(CudaDeviceInfo.query(i));
    }
    return new CudaAvailability(null, version[0], List.copyOf(devices));
  }

  private static CudaAvailability unavailable(String reason) {
    return new CudaAvailability(reason, 0, List.of());
  }

  /** Turns a failed load of the presets into the missing piece a user can act on. */
  static String explainLoadFailure(LinkageError error, NativeLibraries libraries) {
    if (error instanceof NoClassDefFoundError && String.valueOf(error.getMessage()).contains("org/bytedeco")) {
      return "the JavaCPP CUDA presets (org.bytedeco:cuda) are not on the class path";
    }
    if (libraries.find(NativeLibraries.DRIVER).isEmpty()) {
      return "CUDA driver library " + NativeLibraries.DRIVER + " not found (no NVIDIA driver?)";
    }
    for (String library : List.of(NativeLibraries.RUNTIME, NativeLibraries.NVRTC)) {
      if (libraries.find(library).isEmpty()) {
        return "CUDA 13 library " + library + " not found; put the CUDA 13 toolkit's lib folder"
            + " (e.g. /usr/local/cuda-13.0/targets/x86_64-linux/lib) on LD_LIBRARY_PATH";
      }
    }
    return "cannot load the CUDA bindings: " + error;
  }
}
