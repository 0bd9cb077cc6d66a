package dev.amalgam.backend.cpu;

import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;

/** A libtorch CPU tensor (contiguous F32 or I32) behind the {@link Tensor} handle. */
final class CpuTensor implements Tensor {
  private final CpuBackend owner;
  private final DType dtype;
  private final long[] shape;
  private org.bytedeco.pytorch.Tensor torch;
  /** Counts writes from the host, so that values derived from an int vector know when they are stale. */
  private long version;

  CpuTensor(CpuBackend owner, org.bytedeco.pytorch.Tensor torch, DType dtype, long[] shape) {
    this.owner = owner;
    this.torch = torch;
    this.dtype = dtype;
    this.shape = shape.clone();
  }

  /** The libtorch tensor; throws once closed, so a use-after-free is a Java exception, not a crash. */
  org.bytedeco.pytorch.Tensor torch() {
    if (torch == null) {
      throw new IllegalStateException("tensor " + java.util.Arrays.toString(shape) + " is closed");
    }
    return torch;
  }

  long version() {
    return version;
  }

  void written() {
    version++;
  }

  CpuBackend owner() {
    return owner;
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
  public void close() {
    if (torch != null) {
      owner.forget(this);
      torch.close();
      torch = null;
    }
  }
}
