package dev.amalgam.merge;

import java.util.List;

/**
 * A {@link BitSelection} on the host: the high histograms of every channel taken in one pass, then one more pass
 * that answers every query from the low 16 bits inside each query's chosen bin. The passes run over {@link
 * TensorBlocks} in parallel; counts add up in any order. No sorted copy: memory is a few histograms per worker
 * whatever the tensor.
 */
final class RadixSelection implements BitSelection {

  /** Computes the bit patterns of elements {@code [from, from + count)} of every channel into {@code out[c]}. */
  interface BlockBits {
    void bits(long from, int count, int[][] out);
  }

  private final TensorBlocks blocks;
  private final int channels;
  private final BlockBits source;
  /** Per channel, the high-bits histogram, and in its last slot the count of zeros. */
  private final long[][] high;

  RadixSelection(TensorBlocks blocks, int channels, BlockBits source) {
    this.blocks = blocks;
    this.channels = channels;
    this.source = source;
    List<int[][]> histograms = blocks.map(block -> {
      int[][] bits = bits(block);
      int[][] histogram = new int[channels][BINS + 1];
      for (int c = 0; c < channels; c++) {
        int[] h = histogram[c];
        for (int b : bits[c]) {
          h[b >>> 16]++;
          h[BINS] += b == 0 ? 1 : 0;
        }
      }
      return histogram;
    });
    this.high = new long[channels][BINS + 1];
    for (int[][] histogram : histograms) {
      for (int c = 0; c < channels; c++) {
        for (int i = 0; i <= BINS; i++) {
          high[c][i] += histogram[c][i];
        }
      }
    }
  }

  @Override
  public long zeros(int c) {
    return high[c][BINS];
  }

  /** Every query in one pass over the low bits. */
  @Override
  public int[] kthLargest(int[] channelOf, long[] ks) {
    int queries = ks.length;
    Bin[] bins = new Bin[queries];
    for (int q = 0; q < queries; q++) {
      bins[q] = Bin.of(high[channelOf[q]], ks[q], 0);
    }
    List<int[][]> histograms = blocks.map(block -> {
      int[][] bits = bits(block);
      int[][] histogram = new int[queries][BINS];
      for (int q = 0; q < queries; q++) {
        int[] h = histogram[q];
        int bin = bins[q].bin();
        for (int b : bits[channelOf[q]]) {
          if (b >>> 16 == bin) {
            h[b & 0xFFFF]++;
          }
        }
      }
      return histogram;
    });
    int[] answers = new int[queries];
    for (int q = 0; q < queries; q++) {
      long[] low = new long[BINS];
      for (int[][] histogram : histograms) {
        for (int i = 0; i < BINS; i++) {
          low[i] += histogram[q][i];
        }
      }
      answers[q] = bins[q].bin() << 16 | Bin.of(low, ks[q], bins[q].above()).bin();
    }
    return answers;
  }

  private int[][] bits(long block) {
    int count = blocks.length(block);
    int[][] bits = new int[channels][count];
    source.bits(blocks.start(block), count, bits);
    return bits;
  }
}
