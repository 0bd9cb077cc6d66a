package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;
import java.util.Set;

/**
 * mergekit's {@code task_arithmetic} (arXiv:2212.04089): each model's task vector (the model minus the base)
 * weighted and summed, scaled by {@code lambda}, added to the base. {@code normalize} (default false) divides the
 * sum by the sum of the weights first. {@code int8_mask} only changes mergekit's memory use, never the result, so
 * it is accepted and has no effect.
 */
public final class TaskArithmeticMerge implements MergeMethod {
  @Override
  public String name() {
    return "task_arithmetic";
  }

  @Override
  public String displayName() {
    return "task arithmetic (task vectors added to a base, arXiv:2212.04089)";
  }

  @Override
  public Set<String> modelParameters() {
    return Set.of("weight");
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
    return new Weights(weights, LinearMerge.normalize(global.get("normalize"), false),
        lambda == null ? 1f : ((Number) lambda).floatValue(), null);
  }
}
