package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Where task vectors are cut by magnitude, for input i ≥ 1 of a tensor with task vectors: the range of
 * magnitudes kept, {@code keepFrom[i] ≤ bits(|xᵢ − base|) ≤ keepTo[i]}, as float32 bit patterns (which order
 * non-negative floats as integers).
 * <ul>
 *   <li>TIES ({@code density} d): the k = ⌊d·n⌋ largest magnitudes;
 *   <li>breadcrumbs ({@code density} d and {@code gamma} γ): the n_top = ⌊γ·n⌋ largest dropped, then the next
 *       ⌊d·n⌋, the smallest dropped (mergekit's {@code magnitude_outliers}).
 * </ul>
 * Each cut is the k-th largest magnitude, found by a {@link BitSelection} over the bit patterns of all task
 * vectors together: one pass for the high bits, then the low bits for every cut, and no sorted copy.
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

  /** The cuts of every input of a tensor thinned by magnitude (all kept for the base). */
  static Cuts of(PlannedTensor tensor, StatisticsPasses passes) {
    int inputs = tensor.inputs().size();
    Cuts cuts = Cuts.allKept(inputs);
    Sparsification sparsification = tensor.sparsification();
    long n = tensor.elementCount();
    int[] thinned = IntStream.range(1, inputs).filter(sparsification::thins).toArray();
    // Per query: its channel (an index into thinned), its k, and where its answer goes.
    List<Integer> channelOf = new ArrayList<>();
    List<Long> ks = new ArrayList<>();
    List<int[]> targets = new ArrayList<>();
    for (int c = 0; c < thinned.length; c++) {
      int m = thinned[c];
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
      channelOf.add(c);
      ks.add(top + target);
      targets.add(cuts.keepFrom());
      if (top > 0) {
        channelOf.add(c);
        ks.add(top + 1);
        targets.add(cuts.keepTo());
      }
    }
    if (thinned.length == 0) {
      return cuts;
    }
    BitSelection magnitudes = passes.magnitudes(thinned);
    int[] answers = magnitudes.kthLargest(channelOf.stream().mapToInt(Integer::intValue).toArray(),
        ks.stream().mapToLong(Long::longValue).toArray());
    for (int q = 0; q < answers.length; q++) {
      targets.get(q)[thinned[channelOf.get(q)]] = answers[q];
    }
    return cuts;
  }
}
