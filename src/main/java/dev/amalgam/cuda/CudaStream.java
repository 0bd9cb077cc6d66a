package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.CU_STREAM_NON_BLOCKING;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoHAsync;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemsetD8Async;
import static org.bytedeco.cuda.global.cudart.cuStreamCreate;
import static org.bytedeco.cuda.global.cudart.cuStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cuStreamSynchronize;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;

/**
 * A non-blocking stream: work on it does not wait for the legacy default stream, so separate streams really
 * overlap copies with kernels.
 */
public final class CudaStream implements AutoCloseable {
  private final CUstream_st stream;
  private boolean destroyed;

  private CudaStream(CUstream_st stream) {
    this.stream = stream;
  }

  public static CudaStream create() {
    CUstream_st stream = new CUstream_st();
    CudaException.check(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    return new CudaStream(stream);
  }

  public CUstream_st handle() {
    return stream;
  }

  /** {@code host} must be pinned for the copy to be asynchronous. */
  public void copyToDevice(long deviceAddress, Pointer host, long bytes) {
    CudaException.check(cuMemcpyHtoDAsync(deviceAddress, host, bytes, stream), "cuMemcpyHtoDAsync");
  }

  /** {@code host} must be pinned for the copy to be asynchronous. */
  public void copyToHost(Pointer host, long deviceAddress, long bytes) {
    CudaException.check(cuMemcpyDtoHAsync(host, deviceAddress, bytes, stream), "cuMemcpyDtoHAsync");
  }

  public void copyOnDevice(long destination, long source, long bytes) {
    CudaException.check(cuMemcpyDtoDAsync(destination, source, bytes, stream), "cuMemcpyDtoDAsync");
  }

  /** Zeroes {@code bytes} of device memory from {@code deviceAddress}, in stream order. */
  public void zero(long deviceAddress, long bytes) {
    CudaException.check(cuMemsetD8Async(deviceAddress, (byte) 0, bytes, stream), "cuMemsetD8Async");
  }

  public void synchronize() {
    CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  @Override
  public synchronized void close() {
    if (!destroyed) {
      destroyed = true;
      CudaException.check(cuStreamDestroy(stream), "cuStreamDestroy");
    }
  }
}
