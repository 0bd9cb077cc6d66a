package dev.amalgam.backend.cpu;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link dev.amalgam.backend.Backend#attention} on libtorch. Rows that share a cache slot (a prefill) are
 * computed together as batched matmuls over the slot's cached prefix, with a mask that hides the positions
 * after each row's own. Query heads are grouped by the KV head they share, so GQA needs no copy of K or V.
 */
final class CpuAttention {
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final float scale;

  CpuAttention(int numHeads, int numKvHeads, int headDim, float scale) {
    if (numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException(numHeads + " query heads do not group over " + numKvHeads + " KV heads");
    }
    this.numHeads = numHeads;
    this.numKvHeads = numKvHeads;
    this.headDim = headDim;
    this.scale = scale;
  }

  void run(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, int[] slots, int[] positions, Tensor out) {
    long maxPositions = kCache.size(1);
    try (PointerScope scope = new PointerScope()) {
      long[] cacheRows = new long[slots.length];
      for (int t = 0; t < slots.length; t++) {
        if (positions[t] < 0 || positions[t] >= maxPositions) {
          throw new IllegalArgumentException("position " + positions[t] + " outside the cache of " + maxPositions);
        }
        cacheRows[t] = slots[t] * maxPositions + positions[t];
      }
      Tensor rows = longs(cacheRows);
      kCache.view(-1, kCache.size(2)).index_copy_(0, rows, k);
      vCache.view(-1, vCache.size(2)).index_copy_(0, rows, v);
      for (int start = 0; start < slots.length; ) {
        int end = start + 1;
        while (end < slots.length && slots[end] == slots[start]) {
          end++;
        }
        attendSlot(q, kCache.select(0, slots[start]), vCache.select(0, slots[start]), positions, start, end, out);
        start = end;
      }
    }
  }

  /** Rows {@code [start, end)} all read one slot's cache ({@code [maxPositions, kvDim]}). */
  private void attendSlot(Tensor q, Tensor keys, Tensor values, int[] positions, int start, int end, Tensor out) {
    int n = end - start;
    int group = numHeads / numKvHeads;
    int length = 0;
    int[] rowPositions = new int[n];
    for (int i = 0; i < n; i++) {
      rowPositions[i] = positions[start + i];
      length = Math.max(length, rowPositions[i] + 1);
    }
    // [kvHeads, length, headDim]
    Tensor k = keys.narrow(0, 0, length).view(length, numKvHeads, headDim).permute(1, 0, 2);
    Tensor v = values.narrow(0, 0, length).view(length, numKvHeads, headDim).permute(1, 0, 2);
    // Query head h = g * group + j uses KV head g: [kvHeads, group * n, headDim].
    Tensor qg = q.narrow(0, start, n).view(n, numKvHeads, group, headDim).permute(1, 2, 0, 3)
        .reshape(numKvHeads, (long) group * n, headDim);
    Tensor scores = qg.bmm(k.transpose(1, 2)).mul(new Scalar((double) scale))
        .view(numKvHeads, group, n, length);
    Tensor hidden = torch.arange(new Scalar(length)).view(1, length)
        .gt(ints(rowPositions).view(n, 1));
    scores.masked_fill_(hidden, new Scalar(Double.NEGATIVE_INFINITY));
    Tensor probs = torch.softmax(scores.view(numKvHeads, (long) group * n, length), -1);
    Tensor context = probs.bmm(v).view(numKvHeads, group, n, headDim).permute(2, 0, 1, 3)
        .reshape(n, (long) numHeads * headDim);
    out.narrow(0, start, n).copy_(context);
  }

  private static Tensor longs(long[] values) {
    return torch.from_blob(new LongPointer(values), new long[] {values.length},
        new TensorOptions(ScalarType.Long)).clone();
  }

  private static Tensor ints(int[] values) {
    return torch.from_blob(new IntPointer(values), new long[] {values.length},
        new TensorOptions(ScalarType.Int)).clone();
  }
}
