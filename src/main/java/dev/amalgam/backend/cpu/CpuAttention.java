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
 * A decode step (every row its own slot) is one set of batched matmuls over all rows, not one set per slot:
 * at small sizes the per-op cost, not the arithmetic, is what a step spends its time on.
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
      if (oneRowPerSlot(slots)) {
        attendRows(q, kCache, vCache, slots, positions, out);
        return;
      }
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
    if (hidesAny(rowPositions, length)) {
      Tensor hidden = torch.arange(new Scalar(length)).view(1, length).gt(ints(rowPositions).view(n, 1));
      scores.masked_fill_(hidden, new Scalar(Double.NEGATIVE_INFINITY));
    }
    Tensor probs = torch.softmax(scores.view(numKvHeads, (long) group * n, length), -1);
    Tensor context = probs.bmm(v).view(numKvHeads, group, n, headDim).permute(2, 0, 1, 3)
        .reshape(n, (long) numHeads * headDim);
    out.narrow(0, start, n).copy_(context);
  }

  /**
   * Whether some row's position is before the last of the {@code length} attended, so the mask matters. A
   * decode step whose rows are all at the same position needs none; skipping it saves four ops per layer.
   */
  private static boolean hidesAny(int[] positions, int length) {
    for (int position : positions) {
      if (position < length - 1) {
        return true;
      }
    }
    return false;
  }

  private static boolean oneRowPerSlot(int[] slots) {
    for (int t = 1; t < slots.length; t++) {
      if (slots[t] == slots[t - 1]) {
        return false;
      }
    }
    return slots.length > 1;
  }

  /**
   * Each row attends over its own slot's prefix, all rows at once for each KV head. The KV cache is read
   * through strided views (BLAS takes the transposed keys and the head's columns in place): gathering the
   * rows into a permuted contiguous copy first cost more than the matmuls. A row before the longest reads
   * positions past its own too; its mask gives them probability exactly 0, and the cache holds only finite
   * values there (zeroed at allocation, or an earlier sequence's), so they add nothing.
   */
  private void attendRows(Tensor q, Tensor kCache, Tensor vCache, int[] slots, int[] positions, Tensor out) {
    int rows = slots.length;
    int group = numHeads / numKvHeads;
    int length = 0;
    for (int position : positions) {
      length = Math.max(length, position + 1);
    }
    Tensor keys = slotPrefixes(kCache, slots, length).view(rows, length, numKvHeads, headDim);
    Tensor values = slotPrefixes(vCache, slots, length).view(rows, length, numKvHeads, headDim);
    Tensor hidden = hidesAny(positions, length)
        ? torch.arange(new Scalar(length)).view(1, 1, length).gt(ints(positions).view(rows, 1, 1))
        : null;
    // Query head h = g * group + j uses KV head g.
    Tensor qg = q.view(rows, numKvHeads, group, headDim);
    Tensor og = out.view(rows, numKvHeads, group, headDim);
    for (int g = 0; g < numKvHeads; g++) {
      Tensor scores = qg.select(1, g).bmm(keys.select(2, g).transpose(1, 2)).mul_(new Scalar((double) scale));
      if (hidden != null) {
        scores.masked_fill_(hidden, new Scalar(Double.NEGATIVE_INFINITY));
      }
      og.select(1, g).copy_(torch.softmax(scores, -1).bmm(values.select(2, g)));
    }
  }

  /**
   * The first {@code length} cached positions of each row's slot, {@code [T, length, kvDim]}: a view when the
   * rows' slots are consecutive (a batch that fills the cache in order), else a gathered copy.
   */
  private static Tensor slotPrefixes(Tensor cache, int[] slots, int length) {
    Tensor prefixes = cache.narrow(1, 0, length);
    boolean consecutive = true;
    long[] index = new long[slots.length];
    for (int t = 0; t < slots.length; t++) {
      consecutive &= slots[t] == slots[0] + t;
      index[t] = slots[t];
    }
    return consecutive ? prefixes.narrow(0, slots[0], slots.length) : prefixes.index_select(0, longs(index));
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
