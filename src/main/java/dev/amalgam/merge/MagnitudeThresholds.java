package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Where task vectors are cut by magnitude, for input i ≥ 1 of a tensor with task vectors: the range of
 * magnitudes kept, {@code keepFrom[i] ≤ bits(|xᵢ − base|) ≤ keepTo[i]}, as float32 bit patterns (which order
 * non-negative floats as integers).
 * <ul>
 *   <li>TIES ({@code density} d): the k = ⌊d·n⌋ largest magnitudes;
 *   <li>breadcrumbs ({@code density} d and {@code gamma} γ): the n_top = ⌊γ·n⌋ largest dropped, then the next
 *       ⌊d·n⌋, the smallest dropped (mergekit's {@code magnitude_outliers}).
 * </ul>
 * Each cut is the k-th largest magnitude, found by radix selection over the bit patterns (a histogram of the high
 * 16 bits, then of the low 16 bits inside the chosen bin): one pass for the high bits, one more per cut, and no
 * sorted copy.
 *
 * <p>Ties at a cut: mergekit keeps exactly k, chosen by an unstable sort; amalgam keeps every element equal to a
 * kept cut value, a rule that does not depend on order. NaN magnitudes sort above everything, as in torch. Where
 * mergekit's breadcrumbs drops the whole task vector because ⌊γ·n⌋ is 0 (its {@code [n_bot:-0]} slice is empty),
 * amalgam keeps the ⌊d·n⌋ largest.
 */
final class MagnitudeThresholds {
  private static final int BINS = 1 << 16;
  /** The largest magnitude bit pattern, NaN included: no cut at the top. */
  static final int ALL = 0x7FFF_FFFF;

  /** Per input, the inclusive range of magnitude bit patterns kept. */
  record Cuts(int[] keepFrom, int[] keepTo) {
    /** Every magnitude of every input kept. */
    static Cuts allKept(int inputs) {
      int[] keepTo = new int[inputs];
      Arrays.fill(keepTo, ALL);
      return new Cuts(new int[inputs], keepTo);
    }
  }

  private MagnitudeThresholds() {}

  /** The cuts of every input of a tensor thinned by magnitude (all kept for the base), from whole inputs. */
  static Cuts of(PlannedTensor tensor, ByteBuffer[] inputs) {
    Cuts cuts = Cuts.allKept(inputs.length);
    Sparsification sparsification = tensor.sparsification();
    long n = tensor.elementCount();
    for (int m = 1; m < inputs.length; m++) {
      if (!sparsification.thins(m)) {
        continue;
      }
      double density = sparsification.densities()[m];
      long target = (long) (density * n);
      long top = (long) (sparsification.gammas()[m] * n);
      long bottom = n - target - top;
      if (bottom < 0) {
        top += bottom;
      }
      if (target == 0) {
        throw new UserError("density " + density + " keeps no element of `" + tensor.name() + "` (" + n
            + " elements); mergekit refuses this too");
      }
      Magnitudes magnitudes = new Magnitudes(TaskVectorView.of(tensor, inputs, m), n);
      cuts.keepFrom()[m] = magnitudes.kthLargest(top + target);
      cuts.keepTo()[m] = top == 0 ? ALL : magnitudes.kthLargest(top + 1);
    }
    return cuts;
  }

  /** One task vector's magnitudes, with the histogram of their high 16 bits taken once for every cut. */
  private static final class Magnitudes {
    private final TaskVectorView delta;
    private final long n;
    private final long[] high = new long[BINS];

    Magnitudes(TaskVectorView delta, long n) {
      this.delta = delta;
      this.n = n;
      for (long i = 0; i < n; i++) {
        high[delta.magnitudeBits(i) >>> 16]++;
      }
    }

    /** The k-th largest bit pattern (k from 1): the high bits' bin, then a pass for the low bits inside it. */
    int kthLargest(long k) {
      int bin = BINS - 1;
      long above = 0;
      while (above + high[bin] < k) {
        above += high[bin--];
      }
      long[] low = new long[BINS];
      for (long i = 0; i < n; i++) {
        int b = delta.magnitudeBits(i);
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
}
