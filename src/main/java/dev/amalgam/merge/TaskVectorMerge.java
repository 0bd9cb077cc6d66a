package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.ArrayList;
import java.util.List;

/**
 * mergekit's task-vector family ({@code generalized_task_arithmetic.py}), one class registered under each of its
 * names: every model's task vector (the model minus the required base) is thinned on its own
 * ({@link Sparsification}: by magnitude, or at random with a seed), weighted, summed
 * (with TIES' sign election where the method has it), divided by the weights' sum when {@code normalize},
 * scaled by {@code lambda} and added to the base. {@code int8_mask} only changes mergekit's memory use, never
 * the result, so it is accepted and has no effect.
 */
public final class TaskVectorMerge implements MergeMethod {
  private final String name;
  private final String displayName;
  private final boolean consensus;
  /** How each task vector is thinned; null for not at all. */
  private final Sparsification.Kind sparsification;
  private final boolean normalizeByDefault;
  private final boolean rescaleByDefault;

  private TaskVectorMerge(String name, String displayName, boolean consensus, Sparsification.Kind sparsification,
      boolean normalizeByDefault, boolean rescaleByDefault) {
    this.name = name;
    this.displayName = displayName;
    this.consensus = consensus;
    this.sparsification = sparsification;
    this.normalizeByDefault = normalizeByDefault;
    this.rescaleByDefault = rescaleByDefault;
  }

  /** The methods of the family amalgam implements, with mergekit's names and defaults. */
  static List<TaskVectorMerge> all() {
    return List.of(
        new TaskVectorMerge("task_arithmetic", "task arithmetic (task vectors added to a base, arXiv:2212.04089)",
            false, null, false, false),
        new TaskVectorMerge("ties", "TIES (magnitude-pruned task vectors with sign election, arXiv:2306.01708)",
            true, Sparsification.Kind.MAGNITUDE, true, false),
        new TaskVectorMerge("dare_linear", "DARE (randomly dropped, rescaled task vectors, arXiv:2311.03099)",
            false, Sparsification.Kind.RANDOM, false, true),
        new TaskVectorMerge("dare_ties", "DARE with TIES' sign election (arXiv:2311.03099)",
            true, Sparsification.Kind.RANDOM, false, true),
        new TaskVectorMerge("breadcrumbs", "model breadcrumbs (task vectors without their outliers, arXiv:2312.06795)",
            false, Sparsification.Kind.MAGNITUDE_OUTLIERS, false, false),
        new TaskVectorMerge("breadcrumbs_ties", "model breadcrumbs with TIES' sign election",
            true, Sparsification.Kind.MAGNITUDE_OUTLIERS, false, false),
        new TaskVectorMerge("della", "DELLA (magnitude-ranked random drops with sign election, arXiv:2406.11617)",
            true, Sparsification.Kind.RANKED_RANDOM, true, true),
        new TaskVectorMerge("della_linear", "DELLA without sign election (arXiv:2406.11617)",
            false, Sparsification.Kind.RANKED_RANDOM, false, true));
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
  public List<MethodParameter> parameters() {
    List<MethodParameter> parameters = new ArrayList<>();
    parameters.add(MethodParameter.perModel("weight", null, "the task vector's weight"));
    if (sparsification != null) {
      parameters.add(MethodParameter.perModel("density", 1.0, "the fraction of the task vector kept"));
    }
    if (sparsification == Sparsification.Kind.MAGNITUDE_OUTLIERS) {
      parameters.add(MethodParameter.perModel("gamma", 0.01, "the fraction of largest magnitudes dropped"));
    }
    if (sparsification == Sparsification.Kind.RANKED_RANDOM) {
      parameters.add(MethodParameter.perModel("epsilon", 0.15, "keep probabilities span density ± epsilon by rank"));
    }
    parameters.add(MethodParameter.global("normalize", normalizeByDefault, "divide by the sum of the weights"));
    parameters.add(MethodParameter.global("rescale", rescaleByDefault,
        "scale a thinned task vector back to its L1 norm"));
    parameters.add(MethodParameter.global("lambda", 1.0, "scales the summed task vectors"));
    parameters.add(MethodParameter.global("int8_mask", false, "mergekit's memory saving; no effect here"));
    return parameters;
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
  public boolean random() {
    return sparsification != null && sparsification.random();
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    float[] weights = LinearMerge.readWeights(tensorName, perModel);
    Object lambda = global.get("lambda");
    if (lambda != null && (!(lambda instanceof Number n) || !Float.isFinite(n.floatValue()))) {
      throw new UserError("parameters.lambda must be a finite number, not " + lambda);
    }
    checkInt8Mask(global);
    boolean rescale = LinearMerge.flag("rescale", global.get("rescale"), (Boolean) defaultOf("rescale"));
    boolean normalize = LinearMerge.flag("normalize", global.get("normalize"), (Boolean) defaultOf("normalize"));
    Number scale = lambda == null ? (Number) defaultOf("lambda") : (Number) lambda;
    return new Weights(weights, normalize, scale.floatValue(), sparsification(tensorName, perModel, rescale), null);
  }

  /** {@code int8_mask}, which only changes mergekit's memory use: accepted when true or false, and unused. */
  static void checkInt8Mask(ParameterLookup global) {
    Object int8Mask = global.get("int8_mask");
    if (int8Mask != null && !(int8Mask instanceof Boolean)) {
      throw new UserError("parameters.int8_mask must be true or false, not " + int8Mask);
    }
  }

  private Sparsification sparsification(String tensorName, List<ParameterLookup> perModel, boolean rescale) {
    if (sparsification == null) {
      return null;
    }
    double[] densities = fractions(tensorName, perModel, "density", false);
    double[] gammas = new double[perModel.size()];
    double[] epsilons = new double[perModel.size()];
    if (sparsification == Sparsification.Kind.MAGNITUDE_OUTLIERS) {
      gammas = fractions(tensorName, perModel, "gamma", true);
    }
    if (sparsification == Sparsification.Kind.RANKED_RANDOM) {
      epsilons = fractions(tensorName, perModel, "epsilon", true);
      for (int i = 0; i < densities.length; i++) {
        if (densities[i] < 1 && (densities[i] - epsilons[i] <= 0 || densities[i] + epsilons[i] >= 1)) {
          throw new UserError("models[" + i + "] density " + densities[i] + " and epsilon " + epsilons[i] + " for `"
              + tensorName + "`: " + name + " keeps elements with probabilities from density - epsilon to density + "
              + "epsilon, which must lie strictly between 0 and 1");
        }
      }
    }
    return new Sparsification(sparsification, Sparsification.perInput(densities, 1),
        Sparsification.perInput(gammas, 0), Sparsification.perInput(epsilons, 0), rescale, 0);
  }

  /** Each model's {@code key}, a fraction in (0, 1] ([0, 1] where {@code zeroAllowed}), or its default. */
  private double[] fractions(String tensorName, List<ParameterLookup> perModel, String key, boolean zeroAllowed) {
    double byDefault = ((Number) defaultOf(key)).doubleValue();
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
