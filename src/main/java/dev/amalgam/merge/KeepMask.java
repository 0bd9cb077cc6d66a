package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Which elements of one task vector a random thinning kept, as drawn once in the rescale pass of
 * {@link TensorStatistics}, so the element op reads a bit instead of drawing (and, for DELLA, ranking) again.
 * One bit set per {@link TensorBlocks} block, each written by the one worker of its block: n/8 bytes per input.
 */
record KeepMask(TensorBlocks blocks, List<long[]> bits) {

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

  /**
   * Writes the bits of elements {@code [start, start + count)} to {@code out} at its position, as little-endian
   * 32-bit words (bit j of word w is element {@code start + 32w + j}), the layout merge.cu reads.
   */
  void copyBits(long start, long count, ByteBuffer out) {
    ByteBuffer target = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int block = (int) (start / blocks.blockLength());
    int at = (int) (start - (long) block * blocks.blockLength());
    long[] words = bits.get(block);
    int word = 0;
    for (long i = 0; i < count; i++, at++) {
      if (at == blocks.blockLength()) {
        words = bits.get(++block);
        at = 0;
      }
      word |= (int) ((words[at >>> 6] >>> at) & 1) << (i & 31);
      if ((i & 31) == 31 || i == count - 1) {
        target.putInt(word);
        word = 0;
      }
    }
  }

  /** Bytes that the bits of {@code count} elements take as 32-bit words. */
  static long wordBytes(long count) {
    return (count + 31) / 32 * 4;
  }

  /** The bit set of a block whose keep flags (1 or 0) are {@code flags[0 .. length)}. */
  static long[] bitsOf(float[] flags, int length) {
    long[] bits = new long[(length + 63) >>> 6];
    for (int i = 0; i < length; i++) {
      bits[i >>> 6] |= (long) flags[i] << i;
    }
    return bits;
  }
}
