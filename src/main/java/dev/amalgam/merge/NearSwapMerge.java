package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;

/**
 * mergekit's {@code nearswap}: element by element, the model's value where it lies within {@code t} of the base's,
 * and farther away a blend toward the base in proportion to {@code t / |base − x|}.
 */
final class NearSwapMerge implements MergeMethod {
  @Override
  public String name() {
    return "nearswap";
  }

  @Override
  public String displayName() {
    return "NearSwap (the model's values where they are near the base's, blended toward the base elsewhere)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(MethodParameter.global("t", null, "the distance from the base within which the model's value is taken"));
  }

  @Override
  public BaseRole baseRole() {
    return BaseRole.REQUIRED;
  }

  @Override
  public int maxModels() {
    return 1;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    double t = number(global, "t", tensorName);
    if (!(t > 0)) {
      throw new UserError("parameters.t for `" + tensorName + "` must be above 0, not " + t);
    }
    return Weights.ruled(new TensorRule.NearSwap((float) t), perModel.size());
  }
}
