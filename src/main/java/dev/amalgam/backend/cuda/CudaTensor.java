package dev.amalgam.backend.cuda;

import dev.amalgam.backend.Tensor;
import dev.amalgam.cuda.CudaEvent;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.PinnedBuffer;
import dev.amalgam.tensor.DType;
import java.util.Arrays;

/**
 * A {@link Tensor} of the {@link CudaBackend}: device memory, its dtype and shape. An int vector also has a
 * pinned host mirror that {@link CudaBackend#writeInts} fills and copies from on the backend's stream, with an
 * event marking when that copy has read the mirror, so the next write never races the previous copy.
 */
final class CudaTensor implements Tensor {
  private final CudaBackend owner;
  private final DeviceBuffer buffer;
  private final DType dtype;
  private final long[] shape;
  private final PinnedBuffer mirror;
  private final CudaEvent mirrorRead;
  private boolean mirrorInFlight;
  private boolean closed;

  CudaTensor(CudaBackend owner, DeviceBuffer buffer, DType dtype, long[] shape, boolean withMirror) {
    this.owner = owner;
    this.buffer = buffer;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.mirror = withMirror ? PinnedBuffer.allocate(buffer.bytes()) : null;
    this.mirrorRead = withMirror ? CudaEvent.create(false) : null;
  }

  CudaBackend owner() {
    return owner;
  }

  long address() {
    return buffer.address();
  }

  long byteSize() {
    return elementCount() * dtype.byteSize();
  }

  long elementCount() {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Copies {@code values} to the device through the pinned mirror, in stream order. */
  void writeInts(CudaStream stream, int[] values) {
    if (mirror == null) {
      throw new IllegalArgumentException("only tensors from allocateInts take writeInts");
    }
    if (mirrorInFlight) {
      mirrorRead.synchronize();
    }
    mirror.buffer().asIntBuffer().put(0, values);
    stream.copyToDevice(buffer.address(), mirror.at(0), 4L * values.length);
    mirrorRead.record(stream);
    mirrorInFlight = true;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      owner.release(this);
    }
  }

  /** Frees the memory; the backend calls this once pending work cannot use it any more. */
  void free() {
    buffer.close();
    if (mirror != null) {
      mirrorRead.close();
      mirror.close();
    }
  }

  @Override
  public String toString() {
    return "cuda " + dtype + Arrays.toString(shape);
  }
}
