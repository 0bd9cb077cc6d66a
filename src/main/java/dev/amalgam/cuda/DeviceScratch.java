package dev.amalgam.cuda;

/**
 * Device memory that grows on demand and is reused otherwise, for the backend's temporaries (bf16 copies
 * of linear inputs, attention partials, sampling buffers). Growing waits for the stream first, since work
 * already enqueued may still use the old allocation.
 */
public final class DeviceScratch implements AutoCloseable {
  private final CudaStream stream;
  private DeviceBuffer buffer;

  public DeviceScratch(CudaStream stream) {
    this.stream = stream;
  }

  /** A device address with room for {@code bytes}. */
  public long atLeast(long bytes) {
    if (buffer == null || buffer.bytes() < bytes) {
      if (buffer != null) {
        stream.synchronize();
        buffer.close();
        buffer = null;
      }
      buffer = DeviceBuffer.allocate(bytes);
    }
    return buffer.address();
  }

  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
      buffer = null;
    }
  }
}
