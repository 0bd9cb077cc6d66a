package dev.amalgam.merge;

import java.util.List;

/**
 * mergekit's {@code slerp}: spherical interpolation from the base (t = 0) to the one other model (t = 1), with one
 * angle per tensor between the flattened tensors; where they are nearly colinear ({@code |cos θ| > 0.9995}), a
 * linear interpolation instead, as in mergekit. The result is {@code s₀·base + s₁·model}, the coefficients applied
 * to the tensors themselves, not to their unit vectors.
 */
final class SlerpMerge implements MergeMethod {
  private static final double COLINEAR = 0.9995;
  /** mergekit normalizes a tensor only when its norm exceeds this. */
  private static final double TINY_NORM = 1e-8;

  @Override
  public String name() {
    return "slerp";
  }

  @Override
  public String displayName() {
    return "SLERP (spherical interpolation between two models)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(MethodParameter.global("t", null, "where on the arc from the base (0) to the model (1)"));
  }

  @Override
  public BaseRole baseRole() {
    return BaseRole.REQUIRED;
  }

  @Override
  public int maxModels() {
    return 1;
  }

  /** mergekit's slerp converts both tensors to float32 numpy arrays whatever the dtype. */
  @Override
  public boolean roundsInWorkDType() {
    return false;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    double t = number(global, "t", tensorName);
    return Weights.ruled(new TensorRule.Combination(TensorRule.Segments.TENSOR, gram -> coefficients(t, gram)),
        perModel.size());
  }

  /** The weights of the base and the model from their Gram matrix, in mergekit's steps. */
  static double[] coefficients(double t, double[][] gram) {
    double n0 = Math.sqrt(gram[0][0]);
    double n1 = Math.sqrt(gram[1][1]);
    double dot = gram[0][1] / (n0 > TINY_NORM ? n0 : 1) / (n1 > TINY_NORM ? n1 : 1);
    if (Math.abs(dot) > COLINEAR) {
      return new double[] {1 - t, t};
    }
    double theta = Math.acos(dot);
    double sinTheta = Math.sin(theta);
    return new double[] {Math.sin(theta - theta * t) / sinTheta, Math.sin(theta * t) / sinTheta};
  }
}
