package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetName;
import static org.bytedeco.cuda.global.cudart.cuDeviceTotalMem;

import java.nio.charset.StandardCharsets;
import org.bytedeco.javacpp.SizeTPointer;

/** What the driver says about one GPU, readable without creating a context. */
public record CudaDeviceInfo(
    int ordinal, String name, int computeMajor, int computeMinor, long totalMemoryBytes, int multiprocessors) {

  /** {@code sm_90} for compute capability 9.0: NVRTC's name for the GPU's own instruction set. */
  public String architecture() {
    return "sm_" + computeMajor + computeMinor;
  }

  public String computeCapability() {
    return computeMajor + "." + computeMinor;
  }

  /** Needs cuInit to have succeeded. */
  public static CudaDeviceInfo query(int ordinal) {
    int[] device = new int[1];
    CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
    byte[] nameBytes = new byte[256];
    CudaException.check(cuDeviceGetName(nameBytes, nameBytes.length, device[0]), "cuDeviceGetName");
    int length = 0;
    while (length < nameBytes.length && nameBytes[length] != 0) {
      length++;
    }
    long totalMemory;
    try (SizeTPointer bytes = new SizeTPointer(1)) {
      CudaException.check(cuDeviceTotalMem(bytes, device[0]), "cuDeviceTotalMem");
      totalMemory = bytes.get();
    }
    return new CudaDeviceInfo(
        ordinal,
        new String(nameBytes, 0, length, StandardCharsets.UTF_8),
        attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device[0]),
        attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device[0]),
        totalMemory,
        attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device[0]));
  }

  private static int attribute(int attribute, int device) {
    int[] value = new int[1];
    CudaException.check(cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
    return value[0];
  }
}
