package dev.amalgam.merge;

import java.util.List;

/**
 * mergekit's {@code arcee_fusion}: the model's changes to the base kept only where their importance, {@code |Δ|}
 * times the KL divergence between the row's softmaxes of the model and of the base, is at least
 * {@code median + 1.5·IQR} of the tensor's importances. The result is float32 unless {@code out_dtype} is set, as
 * in mergekit. mergekit estimates the quantiles from a random sample of 10⁶ elements in larger tensors; amalgam
 * takes them exactly, so it is deterministic.
 */
final class ArceeFusionMerge implements MergeMethod {
  @Override
  public String name() {
    return "arcee_fusion";
  }

  @Override
  public String displayName() {
    return "Arcee Fusion (a model's most important changes to the base, by a dynamic threshold)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of();
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
  public boolean outputsFloat32() {
    return true;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    return Weights.ruled(new TensorRule.Fusion(), perModel.size());
  }
}
