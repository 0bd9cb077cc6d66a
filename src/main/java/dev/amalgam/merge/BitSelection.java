package dev.amalgam.merge;

/**
 * The k-th largest of the non-negative float32 bit patterns (which order as integers) of a tensor's statistic, for
 * several channels at once (one per task vector), found by radix selection: a histogram of the high 16 bits of
 * every channel, then, per query, one of the low 16 bits inside the bin that holds its answer. {@link
 * RadixSelection} counts on the host, {@link DeviceStatistics} on the GPU; both walk the histograms here, so they
 * answer alike.
 */
interface BitSelection {
  /** Bins of each 16-bit histogram. */
  int BINS = 1 << 16;

  /** How many of channel {@code c}'s patterns are 0 (+0.0). */
  long zeros(int c);

  /** Query q's answer: the {@code ks[q]}-th largest bit pattern (from 1) of channel {@code channelOf[q]}. */
  int[] kthLargest(int[] channelOf, long[] ks);

  /** The bin of a histogram walked down from its top that holds the k-th largest, and the count above it. */
  record Bin(int bin, long above) {
    static Bin of(long[] histogram, long k, long countedAbove) {
      int bin = BINS - 1;
      long above = countedAbove;
      while (above + histogram[bin] < k) {
        above += histogram[bin--];
      }
      return new Bin(bin, above);
    }
  }
}
