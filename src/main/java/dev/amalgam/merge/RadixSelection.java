package dev.amalgam.merge;

import java.util.function.LongToIntFunction;

/**
 * The k-th largest of n non-negative float32 bit patterns (which order as integers), computed on demand from
 * the element index, by radix selection: a histogram of the high 16 bits taken once, then per query one more pass
 * for the low 16 bits inside the chosen bin. No sorted copy: memory is two histograms whatever n.
 */
final class RadixSelection {
  private static final int BINS = 1 << 16;

  private final long n;
  private final LongToIntFunction bits;
  private final long[] high = new long[BINS];
  private long zeros;

  RadixSelection(long n, LongToIntFunction bits) {
    this.n = n;
    this.bits = bits;
    for (long i = 0; i < n; i++) {
      int b = bits.applyAsInt(i);
      high[b >>> 16]++;
      if (b == 0) {
        zeros++;
      }
    }
  }

  /** How many of the patterns are 0 (+0.0). */
  long zeros() {
    return zeros;
  }

  /** The k-th largest bit pattern, k from 1 to n. */
  int kthLargest(long k) {
    int bin = BINS - 1;
    long above = 0;
    while (above + high[bin] < k) {
      above += high[bin--];
    }
    long[] low = new long[BINS];
    for (long i = 0; i < n; i++) {
      int b = bits.applyAsInt(i);
      if (b >>> 16 == bin) {
        low[b & 0xFFFF]++;
      }
    }
    int lowBin = BINS - 1;
    while (above + low[lowBin] < k) {
      above += low[lowBin--];
    }
    return bin << 16 | lowBin;
  }
}
