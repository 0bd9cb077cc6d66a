package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;

/**
 * mergekit's {@code linear}: a weighted average of the models' tensors (model soups). With
 * {@code normalize: true}, the default, the sum is divided by the sum of the weights.
 */
public final class LinearMerge implements MergeMethod {
  @Override
  public String name() {
    return "linear";
  }

  @Override
  public String displayName() {
    return "linear (a weighted average, as in model soups, arXiv:2203.05482)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(
        MethodParameter.perModel("weight", null, "the model's weight"),
        MethodParameter.global("normalize", true, "divide by the sum of the weights"));
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    float[] weights = readWeights(tensorName, perModel);
    boolean normalize = flag("normalize", global.get("normalize"), (Boolean) defaultOf("normalize"));
    float sum = 0f;
    for (float w : weights) {
      sum += w;
    }
    if (normalize && sum == 0f) {
      throw new UserError("the weights for `" + tensorName + "` sum to 0, so they cannot be normalized "
          + "(set `normalize: false` or change the weights)");
    }
    return new Weights(weights, normalize);
  }

  /** Every model's `weight` for the tensor: required, finite, and with a finite float32 sum. */
  static float[] readWeights(String tensorName, List<ParameterLookup> perModel) {
    float[] weights = new float[perModel.size()];
    float sum = 0f;
    for (int i = 0; i < weights.length; i++) {
      Object w = perModel.get(i).get("weight");
      if (w == null) {
        throw new UserError("models[" + i + "] has no `weight` for tensor `" + tensorName + "`");
      }
      if (!(w instanceof Number n) || !Float.isFinite(n.floatValue())) {
        throw new UserError("models[" + i + "] weight for `" + tensorName + "` must be a finite number, not " + w);
      }
      weights[i] = n.floatValue();
      sum += weights[i];
    }
    if (!Float.isFinite(sum)) {
      throw new UserError("the weights for `" + tensorName + "` sum to " + sum + " in float32; use weights whose sum "
          + "is a finite number");
    }
    return weights;
  }

  /** Parameter {@code name}: true, false, or as mergekit also reads them, 1 and 0; absent means {@code byDefault}. */
  static boolean flag(String name, Object value, boolean byDefault) {
    if (value == null) {
      return byDefault;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) {
      return n.doubleValue() == 1;
    }
    throw new UserError("parameters." + name + " must be true or false (or 1 or 0), not " + value);
  }
}
