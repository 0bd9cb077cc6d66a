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
 * Each cut is the k-th largest magnitude, found by {@link RadixSelection} over the bit patterns: one pass for
 * the high bits, one more per cut, and no sorted copy.
 *
 * <p>Ties at a cut: mergekit keeps exactly k, chosen by an unstable sort; amalgam keeps every element equal to a
 * kept cut value, a rule that does not depend on order. NaN magnitudes sort above everything, as in torch. Where
 * mergekit's breadcrumbs drops the whole task vector because ⌊γ·n⌋ is 0 (its {@code [n_bot:-0]} slice is empty),
 * amalgam keeps the ⌊d·n⌋ largest.
 */
final class MagnitudeThresholds {
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
    TensorBlocks blocks = TensorBlocks.of(tensor);
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
      TaskVectorView view = TaskVectorView.of(tensor, inputs, m);
      RadixSelection magnitudes = new RadixSelection(blocks, (from, count, out) -> {
        float[] deltas = new float[count];
        view.load(from, count, deltas, new float[count]);
        for (int i = 0; i < count; i++) {
          out[i] = TaskVectorView.magnitudeBits(deltas[i]);
        }
      });
      cuts.keepFrom()[m] = magnitudes.kthLargest(top + target);
      cuts.keepTo()[m] = top == 0 ? ALL : magnitudes.kthLargest(top + 1);
    }
    return cuts;
  }
}
