package dev.amalgam.merge;

import java.util.List;

/**
 * Which elements of one task vector a random thinning kept, as drawn once in the rescale pass of
 * {@link TensorStatistics}, so the element op reads a bit instead of drawing (and, for DELLA, ranking) again.
 * One bit set per {@link TensorBlocks} block, each written by the one worker of its block: n/8 bytes per input.
 */
record KeepMask(TensorBlocks blocks, List<long[]> bits) {

  boolean kept(long e) {
    long block = e / blocks.blockLength();
    int i = (int) (e - block * blocks.blockLength());
    return (bits.get((int) block)[i >>> 6] & (1L << i)) != 0;
  }

  /** {@code deltas[i] = (deltas[i]·kept)·scale} for elements {@code [start, start + n)}. */
  void apply(long start, float[] deltas, int n, float scale) {
    int block = (int) (start / blocks.blockLength());
    int at = (int) (start - (long) block * blocks.blockLength());
    long[] words = bits.get(block);
    for (int i = 0; i < n; i++, at++) {
      if (at == blocks.blockLength()) {
        words = bits.get(++block);
        at = 0;
      }
      deltas[i] = deltas[i] * (int) ((words[at >>> 6] >>> at) & 1) * scale;
    }
  }

  /** An empty bit set for a block of {@code length} elements. */
  static long[] forBlock(int length) {
    return new long[(length + 63) >>> 6];
  }

  static void set(long[] bits, int i) {
    bits[i >>> 6] |= 1L << i;
  }
}
