package dev.amalgam.backend;

import java.util.Arrays;

/**
 * The shape rules of the {@link Backend} ops, checked before anything is enqueued, so a wrong call fails as
 * itself and not as a kernel reading past a buffer.
 */
public final class OpShapes {
  private OpShapes() {}

  public static void check(Tensor t, long... shape) {
    if (!Arrays.equals(t.shape(), shape)) {
      throw new IllegalArgumentException("expected shape " + Arrays.toString(shape) + ", got " + t);
    }
  }

  /** weight [out, in] for x [rows, in], bias [out] if any, out [rows, out] and distinct from x. */
  public static void checkProjection(Tensor x, Projection p) {
    long outFeatures = p.weight().shape()[0];
    check(p.weight(), outFeatures, x.cols());
    check(p.out(), x.rows(), outFeatures);
    if (p.bias() != null) {
      check(p.bias(), outFeatures);
    }
    if (p.out() == x) {
      throw new IllegalArgumentException("a linear layer's output must be distinct from its input");
    }
  }

  /** q and out [rows, heads · headDim], k and v [rows, kvDim], caches [slots, positions, kvDim], ints [rows]. */
  public static void checkAttention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots,
      Tensor positions, int numHeads, int numKvHeads, int headDim, Tensor out) {
    long rows = q.rows();
    long kvDim = (long) numKvHeads * headDim;
    long[] cacheShape = kCache.shape();
    if (cacheShape.length != 3) {
      throw new IllegalArgumentException("a KV cache is [slots, positions, kv_dim], got " + kCache);
    }
    check(q, rows, (long) numHeads * headDim);
    check(out, rows, (long) numHeads * headDim);
    check(k, rows, kvDim);
    check(v, rows, kvDim);
    check(kCache, cacheShape[0], cacheShape[1], kvDim);
    check(vCache, cacheShape[0], cacheShape[1], kvDim);
    check(slots, rows);
    check(positions, rows);
  }

  public static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
