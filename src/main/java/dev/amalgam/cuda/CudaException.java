package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.cuGetErrorName;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;
import static org.bytedeco.cuda.global.nvrtc.NVRTC_SUCCESS;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/** A failed CUDA driver or NVRTC call, named with its error code and the library's own explanation. */
public final class CudaException extends RuntimeException {
  private final int code;

  public CudaException(String message, int code) {
    super(message);
    this.code = code;
  }

  /** The CUresult or nvrtcResult; 0 when the failure has no code. */
  public int code() {
    return code;
  }

  /** Throws unless a driver API call returned CUDA_SUCCESS. */
  public static void check(int result, String call) {
    if (result != CUDA_SUCCESS) {
      throw new CudaException(call + " failed: " + describe(result), result);
    }
  }

  /** Throws unless an NVRTC call returned NVRTC_SUCCESS. */
  public static void checkNvrtc(int result, String call) {
    if (result != NVRTC_SUCCESS) {
      throw new CudaException(call + " failed: " + nvrtcGetErrorString(result).getString(), result);
    }
  }

  /** {@code CUDA_ERROR_OUT_OF_MEMORY (out of memory)}, or the bare number for codes the driver does not know. */
  public static String describe(int result) {
    String name = driverString(result, true);
    String text = driverString(result, false);
    if (name == null) {
      return "CUresult " + result;
    }
    return text == null ? name : name + " (" + text + ")";
  }

  private static String driverString(int result, boolean name) {
    // Both functions hand back a pointer to a static string, or NULL for an unknown code.
    try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
      int status = name ? cuGetErrorName(result, out) : cuGetErrorString(result, out);
      Pointer string = out.get(0);
      if (status != CUDA_SUCCESS || string == null || string.isNull()) {
        return null;
      }
      return out.getString(0);
    }
  }
}
