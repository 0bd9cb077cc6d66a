package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;

/**
 * mergekit's {@code multislerp}: barycentric interpolation of any number of models (or, with a base model, of their
 * task vectors) on the hypersphere: the weighted mean of the unit vectors, normalized, moved along the weighted
 * mean of the tangent vectors there, and scaled to the weighted mean norm. Every step is a linear combination of
 * the inputs, so the weights come from their Gram matrix, per tensor.
 */
final class MultiSlerpMerge implements MergeMethod {
  @Override
  public String name() {
    return "multislerp";
  }

  @Override
  public String displayName() {
    return "Multi-SLERP (barycentric interpolation of several models on the hypersphere)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(
        MethodParameter.perModel("weight", null, "the model's weight"),
        MethodParameter.global("normalize_weights", true, "divide the weights by their sum"),
        MethodParameter.global("eps", 1e-8, "added to norms before dividing by them"));
  }

  @Override
  public BaseRole baseRole() {
    return BaseRole.OPTIONAL;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    float[] weights = LinearMerge.readWeights(tensorName, perModel);
    boolean normalize = flag(global, "normalize_weights");
    double eps = number(global, "eps", tensorName);
    return Weights.ruled(new TensorRule.Combination(TensorRule.Segments.TENSOR,
        gram -> coefficients(weights, normalize, eps, gram, tensorName)), perModel.size());
  }

  /** The weights of the vectors from their Gram matrix, in mergekit's steps. */
  static double[] coefficients(float[] modelWeights, boolean normalize, double eps, double[][] gram,
      String tensorName) {
    int n = modelWeights.length;
    if (n == 1) {
      return new double[] {1};
    }
    double[] w = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      w[i] = modelWeights[i];
      sum += w[i];
    }
    for (int i = 0; normalize && i < n; i++) {
      w[i] /= sum;
    }
    double[] norms = new double[n];
    double[] mean = new double[n];  // the weighted sum of the unit vectors, over the inputs
    for (int i = 0; i < n; i++) {
      norms[i] = Math.sqrt(gram[i][i]);
      mean[i] = w[i] / (norms[i] + eps);
    }
    double meanNorm = Math.sqrt(Math.max(0, Gram.quadratic(gram, mean, mean)));
    if (meanNorm < eps) {
      if (n == 2) {
        return w;  // mergekit's fallback for two opposite vectors: the weighted sum
      }
      throw new UserError("multislerp: the weighted unit vectors of `" + tensorName + "` cancel to zero; choose "
          + "other weights");
    }
    for (int i = 0; i < n; i++) {
      mean[i] /= meanNorm;
    }
    // The tangent vectors' weighted sum: Σ wᵢ·(uᵢ − <uᵢ, m>·m), with uᵢ = xᵢ / (‖xᵢ‖ + eps).
    double projection = 0;
    for (int i = 0; i < n; i++) {
      double[] unit = new double[n];
      unit[i] = 1 / (norms[i] + eps);
      projection += w[i] * Gram.quadratic(gram, unit, mean);
    }
    double[] tangent = new double[n];
    for (int i = 0; i < n; i++) {
      tangent[i] = w[i] / (norms[i] + eps) - projection * mean[i];
    }
    double tangentNorm = Math.sqrt(Math.max(0, Gram.quadratic(gram, tangent, tangent))) + eps;
    double averageNorm = 0;
    for (int i = 0; i < n; i++) {
      averageNorm += norms[i] * w[i];
    }
    double[] result = new double[n];
    for (int i = 0; i < n; i++) {
      result[i] = (mean[i] * Math.cos(tangentNorm) + tangent[i] * (Math.sin(tangentNorm) / tangentNorm)) * averageNorm;
    }
    return result;
  }
}
