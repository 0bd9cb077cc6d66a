package dev.amalgam.backend;

import dev.amalgam.tensor.DType;

/**
 * An opaque handle to memory owned by a {@link Backend}: a weight, an activation, a KV cache or a small int
 * vector. Every tensor is dense and row-major (the last dimension is contiguous), so a 2-D tensor
 * {@code [rows, cols]} holds row {@code r} at elements {@code r*cols .. r*cols+cols-1}.
 *
 * <p>A tensor may only be passed to the backend that made it. Closing frees its memory; closing twice is a
 * no-op. Tensors still open when their backend closes are freed with it.
 */
public interface Tensor extends AutoCloseable {

  /** The dimensions, outermost first. The returned array is a copy. */
  long[] shape();

  /** How the backend stores the elements (for example F32 on CPU, BF16 weights on CUDA, I32 for ids). */
  DType dtype();

  @Override
  void close();

  /** Number of rows of a 2-D (or higher) tensor: the product of all dimensions but the last. */
  default long rows() {
    long[] s = shape();
    long n = 1;
    for (int i = 0; i < s.length - 1; i++) {
      n *= s[i];
    }
    return n;
  }

  /** Size of the last (contiguous) dimension. */
  default long cols() {
    long[] s = shape();
    return s[s.length - 1];
  }
}
