package dev.amalgam.merge;

import java.util.List;

/**
 * The k-th largest of a tensor's non-negative float32 bit patterns (which order as integers), by radix
 * selection: a histogram of the high 16 bits taken once, then per query one more pass for the low 16 bits inside
 * the chosen bin. The passes run over {@link TensorBlocks} in parallel; counts add up in any order. No sorted
 * copy: memory is a histogram per worker whatever the tensor.
 */
final class RadixSelection {
  private static final int BINS = 1 << 16;

  /** Computes the bit patterns of elements {@code [from, from + count)} into {@code out}. */
  interface BlockBits {
    void bits(long from, int count, int[] out);
  }

  private final TensorBlocks blocks;
  private final BlockBits source;
  private final long[] high;
  private final long zeros;

  RadixSelection(TensorBlocks blocks, BlockBits source) {
    this.blocks = blocks;
    this.source = source;
    List<int[]> histograms = blocks.map(block -> {
      int[] histogram = new int[BINS + 1];  // the last slot counts zeros
      for (int b : bits(block)) {
        histogram[b >>> 16]++;
        histogram[BINS] += b == 0 ? 1 : 0;
      }
      return histogram;
    });
    long[] sum = new long[BINS + 1];
    for (int[] histogram : histograms) {
      for (int i = 0; i <= BINS; i++) {
        sum[i] += histogram[i];
      }
    }
    this.zeros = sum[BINS];
    this.high = sum;
  }

  /** How many of the patterns are 0 (+0.0). */
  long zeros() {
    return zeros;
  }

  /** The k-th largest bit pattern, k from 1 to the element count. */
  int kthLargest(long k) {
    int bin = BINS - 1;
    long above = 0;
    while (above + high[bin] < k) {
      above += high[bin--];
    }
    int chosen = bin;
    List<int[]> histograms = blocks.map(block -> {
      int[] histogram = new int[BINS];
      for (int b : bits(block)) {
        if (b >>> 16 == chosen) {
          histogram[b & 0xFFFF]++;
        }
      }
      return histogram;
    });
    long[] low = new long[BINS];
    for (int[] histogram : histograms) {
      for (int i = 0; i < BINS; i++) {
        low[i] += histogram[i];
      }
    }
    int lowBin = BINS - 1;
    while (above + low[lowBin] < k) {
      above += low[lowBin--];
    }
    return bin << 16 | lowBin;
  }

  private int[] bits(long block) {
    int[] bits = new int[blocks.length(block)];
    source.bits(blocks.start(block), bits.length, bits);
    return bits;
  }
}
