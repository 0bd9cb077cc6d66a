package dev.amalgam.merge;

/**
 * How each task vector of a tensor is thinned before the sum, as mergekit's {@code sparsify.py} does: which
 * elements are kept, per input (the base, input 0, never is), and whether the kept ones are scaled back up.
 * A {@code density} of 1 or more leaves that task vector whole, unscaled.
 *
 * @param densities per input, the fraction kept
 * @param gammas per input, breadcrumbs' fraction of largest magnitudes dropped (0 for other kinds)
 * @param epsilons per input, DELLA's spread of keep probabilities around the density (0 for other kinds)
 * @param rescale whether a thinned task vector is multiplied by {@code L1(δ) / L1(kept δ)} over the whole
 *     tensor, so that its L1 norm is unchanged (mergekit's rule; not DARE's per-element {@code 1/density})
 * @param seed the merge's random seed; only random kinds read it ({@link KeepDraws})
 */
record Sparsification(Kind kind, double[] densities, double[] gammas, double[] epsilons, boolean rescale,
    long seed) {

  enum Kind {
    /** The {@code density} fraction of largest magnitudes (TIES). */
    MAGNITUDE,
    /** The {@code gamma} fraction of largest magnitudes dropped, then the next {@code density} kept (breadcrumbs). */
    MAGNITUDE_OUTLIERS,
    /** Each element kept at random with probability {@code density} (DARE). */
    RANDOM,
    /**
     * Each element kept at random with a probability that grows with its magnitude's rank within its row,
     * from {@code density − ε} for the smallest to {@code density + ε} for the largest (DELLA).
     */
    RANKED_RANDOM;

    boolean random() {
      return this == RANDOM || this == RANKED_RANDOM;
    }

    boolean byMagnitude() {
      return this == MAGNITUDE || this == MAGNITUDE_OUTLIERS;
    }
  }

  /** Whether input {@code m}'s task vector is thinned at all. */
  boolean thins(int m) {
    return m > 0 && densities[m] < 1;
  }

  /** Per-model values (without the base) laid out per input, base first with {@code baseValue}. */
  static double[] perInput(double[] perModel, double baseValue) {
    double[] values = new double[perModel.length + 1];
    values[0] = baseValue;
    System.arraycopy(perModel, 0, values, 1, perModel.length);
    return values;
  }

  Sparsification withSeed(long newSeed) {
    return new Sparsification(kind, densities, gammas, epsilons, rescale, newSeed);
  }
}
