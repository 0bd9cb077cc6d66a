package dev.amalgam.merge;

import java.util.List;

/**
 * mergekit's {@code nuslerp}: spherical interpolation between exactly two models, at {@code t = w₁ / (w₀ + w₁)} of
 * their weights (0.5 where those sum to about 0); with a base model (a third one), between their task vectors,
 * added back to the base. One angle per tensor ({@code nuslerp_flatten}, the default), else one per row, or with
 * {@code nuslerp_row_wise} one per column: mergekit's code slerps rows by default and columns with
 * {@code nuslerp_row_wise: true}, the reverse of what its documentation says; amalgam does what the code does.
 */
final class NuSlerpMerge implements MergeMethod {
  private static final double MIN_NORM = 1e-7;
  private static final double COLINEAR_SINE = 1e-8;

  @Override
  public String name() {
    return "nuslerp";
  }

  @Override
  public String displayName() {
    return "NuSLERP (spherical interpolation of two models or their task vectors, per tensor, row or column)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(
        MethodParameter.perModel("weight", null, "the model's weight; t = w₁ / (w₀ + w₁)"),
        MethodParameter.global("nuslerp_flatten", true, "one angle for the whole tensor"),
        MethodParameter.global("nuslerp_row_wise", false, "without flattening, one angle per column, not per row"));
  }

  @Override
  public BaseRole baseRole() {
    return BaseRole.OPTIONAL;
  }

  @Override
  public int minModels() {
    return 2;
  }

  @Override
  public int maxModels() {
    return 2;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    float[] weights = LinearMerge.readWeights(tensorName, perModel);
    double sum = (double) weights[0] + weights[1];
    double t = Math.abs(sum) < 1e-6 ? 0.5 : weights[1] / sum;
    TensorRule.Segments segments = flag(global, "nuslerp_flatten") ? TensorRule.Segments.TENSOR
        : flag(global, "nuslerp_row_wise") ? TensorRule.Segments.COLUMNS : TensorRule.Segments.ROWS;
    return Weights.ruled(new TensorRule.Combination(segments, gram -> coefficients(t, gram)), perModel.size());
  }

  /** The weights of the two vectors from their Gram matrix, in mergekit's steps. */
  static double[] coefficients(double t, double[][] gram) {
    double cos = gram[0][1] / Math.max(Math.sqrt(gram[0][0]), MIN_NORM) / Math.max(Math.sqrt(gram[1][1]), MIN_NORM);
    double theta = Math.acos(Math.min(1, Math.max(-1, cos)));
    double sinTheta = Math.sin(theta);
    if (Math.abs(sinTheta) < COLINEAR_SINE) {
      return new double[] {1 - t, t};
    }
    return new double[] {Math.sin((1 - t) * theta) / sinTheta, Math.sin(t * theta) / sinTheta};
  }
}
