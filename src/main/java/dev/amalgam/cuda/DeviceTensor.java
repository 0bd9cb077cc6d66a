package dev.amalgam.cuda;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;

/**
 * A named tensor resident in GPU memory: {@code elementCount} little-endian elements of {@code dtype},
 * contiguous, row-major, starting at a 256-byte-aligned device address. Closing frees the memory; it is only
 * valid while the {@link CudaContext} it was allocated in is open.
 */
public record DeviceTensor(String name, DType dtype, long[] shape, DeviceBuffer buffer) implements AutoCloseable {

  /** The CUdeviceptr of the first element. */
  public long address() {
    return buffer.address();
  }

  public long elementCount() {
    return TensorInfo.elementCount(shape);
  }

  /** Copies the tensor back to the host, for checks and debugging; slow for large tensors. */
  public ByteBuffer download() {
    return buffer.download();
  }

  @Override
  public void close() {
    buffer.close();
  }
}
