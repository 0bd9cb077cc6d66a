package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@link StatisticsPasses} over the mapped inputs, on the CPU: each pass runs over {@link TensorBlocks} in parallel,
 * and their block results come back in block order.
 */
final class HostStatisticsPasses implements StatisticsPasses {
  private final PlannedTensor tensor;
  private final ByteBuffer[] inputs;
  private final TensorBlocks blocks;

  HostStatisticsPasses(PlannedTensor tensor, ByteBuffer[] inputs) {
    this.tensor = tensor;
    this.inputs = inputs;
    this.blocks = TensorBlocks.of(tensor);
  }

  @Override
  public BitSelection magnitudes(int[] thinned) {
    return new RadixSelection(blocks, thinned.length, (from, count, out) -> {
      float[] base = new float[count];
      float[] deltas = new float[count];
      short[] halves = new short[count];
      TaskVectorView.values(inputs[0], tensor.inputs().get(0).dtype(), from, count, base, halves);
      WorkRounding.round(base, count, tensor.rounding());
      for (int c = 0; c < thinned.length; c++) {
        TaskVectorView.values(inputs[thinned[c]], tensor.inputs().get(thinned[c]).dtype(), from, count, deltas,
            halves);
        WorkRounding.round(deltas, count, tensor.rounding());
        for (int i = 0; i < count; i++) {
          deltas[i] = deltas[i] - base[i];
        }
        WorkRounding.round(deltas, count, tensor.rounding());
        int[] bits = out[c];
        for (int i = 0; i < count; i++) {
          bits[i] = TaskVectorView.magnitudeBits(deltas[i]);
        }
      }
    });
  }

  @Override
  public BitSelection variances() {
    return new RadixSelection(blocks, 1, (from, count, out) -> {
      float[][] deltas = deltas(from, count);
      float[] kept = new float[count];
      float[] squares = new float[count];
      // With a cut of 0 every element is kept, and the squares left behind are the variances times the count.
      TensorStatistics.selectByVariance(deltas, inputs.length, count, 0, kept, squares);
      float models = inputs.length - 1;
      for (int i = 0; i < count; i++) {
        out[0][i] = Float.floatToRawIntBits(squares[i] / models) & 0x7FFF_FFFF;
      }
    });
  }

  @Override
  public Norms[] l1(int[] thinned, TensorStatistics unscaled) {
    boolean random = tensor.sparsification().kind().random();
    Norms[] norms = new Norms[thinned.length];
    for (int c = 0; c < thinned.length; c++) {
      int m = thinned[c];
      TaskVectorView view = TaskVectorView.of(tensor, inputs, m);
      // Per block: L1 of the task vector, then of what its thinning keeps (and, drawn at random, which).
      List<BlockNorms> blockNorms = blocks.map(block -> {
        int count = blocks.length(block);
        long start = blocks.start(block);
        float[] deltas = new float[count];
        view.load(start, count, deltas, new float[count]);
        float[] flags = new float[count];
        new TaskVectorThinning(tensor, inputs, unscaled).keepFlags(m, start, deltas, count, flags);
        float[] magnitudes = new float[count];
        for (int i = 0; i < count; i++) {
          magnitudes[i] = Math.abs(deltas[i]);
        }
        double before = LaneSums.sum(magnitudes, count);
        for (int i = 0; i < count; i++) {
          magnitudes[i] = magnitudes[i] * flags[i];
        }
        double after = LaneSums.sum(magnitudes, count);
        return new BlockNorms(before, after, random ? KeepMask.bitsOf(flags, count) : null);
      });
      double before = 0;
      double after = 0;
      for (BlockNorms block : blockNorms) {
        before += block.before();
        after += block.after();
      }
      norms[c] = new Norms(before, after,
          random ? new KeepMask(blocks, blockNorms.stream().map(BlockNorms::kept).toList()) : null);
    }
    return norms;
  }

  @Override
  public double[] selectedSquares(int varianceCut) {
    List<double[]> blockSquares = blocks.map(block -> {
      int count = blocks.length(block);
      float[][] deltas = deltas(blocks.start(block), count);
      float[] kept = new float[count];
      TensorStatistics.selectByVariance(deltas, inputs.length, count, varianceCut, kept, new float[count]);
      double[] squares = new double[inputs.length];
      float[] selectedSquares = new float[count];
      for (int m = 1; m < inputs.length; m++) {
        float[] d = deltas[m];
        for (int i = 0; i < count; i++) {
          float selected = d[i] * kept[i];
          selectedSquares[i] = selected * selected;
        }
        squares[m] = LaneSums.sum(selectedSquares, count);
      }
      return squares;
    });
    double[] totals = new double[inputs.length];
    for (double[] squares : blockSquares) {
      for (int m = 1; m < inputs.length; m++) {
        totals[m] += squares[m];
      }
    }
    return totals;
  }

  /** One block's L1 norms of a task vector before and after thinning, and its random keep bits (or null). */
  private record BlockNorms(double before, double after, long[] kept) {}

  /** Every task vector over elements {@code [from, from + count)}: {@code [input][element]}, input 0 unused. */
  private float[][] deltas(long from, int count) {
    float[][] deltas = new float[inputs.length][];
    float[] scratch = new float[count];
    for (int m = 1; m < inputs.length; m++) {
      deltas[m] = new float[count];
      TaskVectorView.of(tensor, inputs, m).load(from, count, deltas[m], scratch);
    }
    return deltas;
  }
}
