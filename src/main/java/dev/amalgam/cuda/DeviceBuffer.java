package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.cuCtxSynchronize;
import static org.bytedeco.cuda.global.cudart.cuMemAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemFree;
import static org.bytedeco.cuda.global.cudart.cuMemGetInfo;
import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoH;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoD;
import static org.bytedeco.cuda.global.cudart.cuMemsetD8;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Device memory from cuMemAlloc. Its address is at least 256-byte aligned, which the vectorized kernels rely
 * on. The synchronous copies here are for tests and setup; the merge pipeline uses the stream-ordered ones.
 *
 * <p>Those "synchronous" driver calls run on the legacy default stream, which our non-blocking streams do not
 * wait for, and they are not fully synchronous: cuMemsetD8 on device memory, and cuMemcpyHtoD from pageable
 * memory once the bytes are staged, return before the device memory is written. So each call here settles the
 * whole context, before (download) or after (fill, upload), and then really is done when it returns.
 */
public final class DeviceBuffer implements AutoCloseable {
  private final long address;
  private final long bytes;
  private boolean freed;

  private DeviceBuffer(long address, long bytes) {
    this.address = address;
    this.bytes = bytes;
  }

  /** Needs a current context. Zero bytes still allocates one, so every buffer has a real address. */
  public static DeviceBuffer allocate(long bytes) {
    long[] address = new long[1];
    CudaException.check(cuMemAlloc(address, Math.max(bytes, 1)), "cuMemAlloc(" + bytes + " bytes)");
    return new DeviceBuffer(address[0], bytes);
  }

  /** Device memory free now, as the driver reports it for the current context's device. */
  public static long freeBytes() {
    try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
      CudaException.check(cuMemGetInfo(free, total), "cuMemGetInfo");
      return free.get();
    }
  }

  /** The CUdeviceptr. */
  public long address() {
    return address;
  }

  public long bytes() {
    return bytes;
  }

  public void fill(byte value) {
    CudaException.check(cuMemsetD8(address, value, bytes), "cuMemsetD8");
    settle();
  }

  /** Copies all of {@code source} (a direct buffer, from its position) to the start of this buffer. */
  public void upload(ByteBuffer source) {
    checkFits(source.remaining());
    CudaException.check(cuMemcpyHtoD(address, new Pointer(source), source.remaining()), "cuMemcpyHtoD");
    settle();
  }

  /** The whole buffer, copied into a new little-endian direct buffer once every stream's work is done. */
  public ByteBuffer download() {
    settle();
    ByteBuffer target = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    CudaException.check(cuMemcpyDtoH(new Pointer(target), address, bytes), "cuMemcpyDtoH");
    return target;
  }

  private static void settle() {
    CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize");
  }

  private void checkFits(long length) {
    if (length > bytes) {
      throw new IllegalArgumentException(length + " bytes do not fit a " + bytes + "-byte device buffer");
    }
  }

  @Override
  public synchronized void close() {
    if (!freed) {
      freed = true;
      CudaException.check(cuMemFree(address), "cuMemFree");
    }
  }
}
