package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemFreeHost;
import static org.bytedeco.cuda.global.cudart.cuMemHostAlloc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory from cuMemHostAlloc. Only pinned memory lets cuMemcpy*Async run truly
 * asynchronously and at full PCIe/NVLink speed; pageable memory is staged by the driver first.
 */
public final class PinnedBuffer implements AutoCloseable {
  private final BytePointer memory;
  private final ByteBuffer view;
  private boolean freed;

  private PinnedBuffer(BytePointer memory, long bytes) {
    this.memory = memory;
    this.view = memory.capacity(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Needs a current context. At most 2 GiB, the reach of a Java buffer. */
  public static PinnedBuffer allocate(long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pinned buffers are limited to 2 GiB, asked for " + bytes + " bytes");
    }
    BytePointer memory = new BytePointer();
    CudaException.check(cuMemHostAlloc(memory, Math.max(bytes, 1), 0), "cuMemHostAlloc(" + bytes + " bytes)");
    return new PinnedBuffer(memory, Math.max(bytes, 1));
  }

  /** The whole buffer as a little-endian view; absolute get/put only, the view is shared. */
  public ByteBuffer buffer() {
    return view;
  }

  public long bytes() {
    return view.capacity();
  }

  /** A pointer {@code offset} bytes in, for the async copies. */
  public Pointer at(long offset) {
    if (offset < 0 || offset > bytes()) {
      throw new IndexOutOfBoundsException("offset " + offset + " outside a " + bytes() + "-byte pinned buffer");
    }
    return new RawAddress(memory.address() + offset);
  }

  @Override
  public synchronized void close() {
    if (!freed) {
      freed = true;
      CudaException.check(cuMemFreeHost(memory), "cuMemFreeHost");
    }
  }
}
