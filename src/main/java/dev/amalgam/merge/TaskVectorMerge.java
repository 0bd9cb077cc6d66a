package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * mergekit's task-vector family ({@code generalized_task_arithmetic.py}), one class registered under each of its
 * names: every model's task vector (the model minus the required base) is sparsified on its own, weighted, summed
 * (with TIES' sign election where the method has it), divided by the weights' sum when {@code normalize},
 * scaled by {@code lambda} and added to the base. {@code int8_mask} only changes mergekit's memory use, never
 * the result, so it is accepted and has no effect.
 */
public final class TaskVectorMerge implements MergeMethod {
  /** How each task vector is cut before the sum ({@link MagnitudeThresholds}). */
  enum Sparsification {
    NONE,
    /** The {@code density} fraction of largest magnitudes (TIES). */
    MAGNITUDE,
    /** The {@code gamma} fraction of largest magnitudes dropped, then the next {@code density} kept (breadcrumbs). */
    MAGNITUDE_OUTLIERS
  }

  private final String name;
  private final String displayName;
  private final boolean consensus;
  private final Sparsification sparsification;
  private final boolean normalizeByDefault;

  private TaskVectorMerge(String name, String displayName, boolean consensus, Sparsification sparsification,
      boolean normalizeByDefault) {
    this.name = name;
    this.displayName = displayName;
    this.consensus = consensus;
    this.sparsification = sparsification;
    this.normalizeByDefault = normalizeByDefault;
  }

  /** The methods of the family amalgam implements, with mergekit's names and defaults. */
  static List<TaskVectorMerge> all() {
    return List.of(
        new TaskVectorMerge("task_arithmetic", "task arithmetic (task vectors added to a base, arXiv:2212.04089)",
            false, Sparsification.NONE, false),
        new TaskVectorMerge("ties", "TIES (magnitude-pruned task vectors with sign election, arXiv:2306.01708)",
            true, Sparsification.MAGNITUDE, true),
        new TaskVectorMerge("breadcrumbs", "model breadcrumbs (task vectors without their outliers, arXiv:2312.06795)",
            false, Sparsification.MAGNITUDE_OUTLIERS, false),
        new TaskVectorMerge("breadcrumbs_ties", "model breadcrumbs with TIES' sign election",
            true, Sparsification.MAGNITUDE_OUTLIERS, false));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String displayName() {
    return displayName;
  }

  @Override
  public Set<String> modelParameters() {
    Set<String> names = new LinkedHashSet<>(List.of("weight"));
    if (sparsification != Sparsification.NONE) {
      names.add("density");
    }
    if (sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
      names.add("gamma");
    }
    return names;
  }

  @Override
  public Set<String> globalParameters() {
    return Set.of("normalize", "lambda", "int8_mask");
  }

  @Override
  public boolean taskVectors() {
    return true;
  }

  @Override
  public boolean signConsensus() {
    return consensus;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    float[] weights = LinearMerge.readWeights(tensorName, perModel);
    Object lambda = global.get("lambda");
    if (lambda != null && (!(lambda instanceof Number n) || !Float.isFinite(n.floatValue()))) {
      throw new UserError("parameters.lambda must be a finite number, not " + lambda);
    }
    Object int8Mask = global.get("int8_mask");
    if (int8Mask != null && !(int8Mask instanceof Boolean)) {
      throw new UserError("parameters.int8_mask must be true or false, not " + int8Mask);
    }
    double[] densities = null;
    double[] gammas = null;
    if (sparsification != Sparsification.NONE) {
      densities = fractions(tensorName, perModel, "density", 1, false);
    }
    if (sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
      gammas = fractions(tensorName, perModel, "gamma", 0.01, true);
    }
    return new Weights(weights, LinearMerge.normalize(global.get("normalize"), normalizeByDefault),
        lambda == null ? 1f : ((Number) lambda).floatValue(), densities, gammas);
  }

  /** Each model's {@code key}, a fraction in (0, 1] ([0, 1] where {@code zeroAllowed}), or {@code byDefault}. */
  private static double[] fractions(String tensorName, List<ParameterLookup> perModel, String key,
      double byDefault, boolean zeroAllowed) {
    double[] values = new double[perModel.size()];
    for (int i = 0; i < values.length; i++) {
      Object value = perModel.get(i).get(key);
      if (value == null) {
        values[i] = byDefault;
      } else if (value instanceof Number n && n.doubleValue() <= 1
          && (zeroAllowed ? n.doubleValue() >= 0 : n.doubleValue() > 0)) {
        values[i] = n.doubleValue();
      } else {
        throw new UserError("models[" + i + "] " + key + " for `" + tensorName + "` must be a number in "
            + (zeroAllowed ? "[0, 1]" : "(0, 1]") + ", not " + value);
      }
    }
    return values;
  }
}
