package dev.amalgam.merge;

import java.util.Arrays;
import java.util.List;

/**
 * mergekit's {@code model_stock} (arXiv:2403.19522): the models' average pulled toward the base by the angle
 * between their task vectors: with N models and cos the mean of the pairwise cosines,
 * {@code t = N·cos / (1 + (N − 1)·cos)} and the result {@code base + t·mean(xᵢ − base)}, which is mergekit's
 * {@code t·mean(xᵢ) + (1 − t)·base}. One t per tensor, or with {@code filter_wise} one per row.
 */
final class ModelStockMerge implements MergeMethod {
  private static final double MIN_NORM_PRODUCT = 1e-6;

  @Override
  public String name() {
    return "model_stock";
  }

  @Override
  public String displayName() {
    return "Model Stock (the models' average pulled toward the base by their angle, arXiv:2403.19522)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(MethodParameter.global("filter_wise", false, "one angle per row instead of per tensor"));
  }

  @Override
  public boolean taskVectors() {
    return true;
  }

  @Override
  public int minModels() {
    return 2;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    TensorRule.Segments segments = flag(global, "filter_wise") ? TensorRule.Segments.ROWS : TensorRule.Segments.TENSOR;
    return Weights.ruled(new TensorRule.Combination(segments, ModelStockMerge::coefficients), perModel.size());
  }

  /** The weights of the task vectors from their Gram matrix: t / N each. */
  static double[] coefficients(double[][] gram) {
    int n = gram.length;
    double cosines = 0;
    int pairs = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double normProduct = Math.sqrt(gram[i][i]) * Math.sqrt(gram[j][j]);
        cosines += Math.min(1, Math.max(-1, gram[i][j] / Math.max(normProduct, MIN_NORM_PRODUCT)));
        pairs++;
      }
    }
    double cos = cosines / pairs;
    double t = n * cos / (1 + (n - 1) * cos);
    double[] result = new double[n];
    Arrays.fill(result, t / n);
    return result;
  }
}
