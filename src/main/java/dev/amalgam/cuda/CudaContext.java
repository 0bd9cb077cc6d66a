package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.cuCtxSetCurrent;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRelease;
import static org.bytedeco.cuda.global.cudart.cuDevicePrimaryCtxRetain;

import org.bytedeco.cuda.cudart.CUctx_st;

/**
 * The device's primary context, retained for this object's lifetime. The primary context is the one the
 * CUDA runtime and libraries such as cuBLAS share, so memory allocated here is usable by all of them.
 * Closing releases the retain; device memory allocated in it dies with the context's last retain.
 */
public final class CudaContext implements AutoCloseable {
  private final CudaDeviceInfo device;
  private final int deviceHandle;
  private final CUctx_st context;
  private boolean closed;

  private CudaContext(CudaDeviceInfo device, int deviceHandle, CUctx_st context) {
    this.device = device;
    this.deviceHandle = deviceHandle;
    this.context = context;
  }

  /** Retains device {@code ordinal}'s primary context and makes it current on this thread. */
  public static CudaContext open(int ordinal) {
    CudaDeviceInfo info = CudaAvailability.requireDevice(ordinal);
    int[] device = new int[1];
    CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
    CUctx_st context = new CUctx_st();
    CudaException.check(cuDevicePrimaryCtxRetain(context, device[0]), "cuDevicePrimaryCtxRetain");
    CudaContext opened = new CudaContext(info, device[0], context);
    opened.makeCurrent();
    return opened;
  }

  public CudaDeviceInfo device() {
    return device;
  }

  /** {@code cuda:0 (NVIDIA H100 80GB HBM3)}, as shown to users. */
  public String description() {
    return "cuda:" + device.ordinal() + " (" + device.name() + ")";
  }

  /** Every thread that calls the driver API must do this first; a context is current per thread. */
  public void makeCurrent() {
    CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      CudaException.check(cuDevicePrimaryCtxRelease(deviceHandle), "cuDevicePrimaryCtxRelease");
    }
  }
}
