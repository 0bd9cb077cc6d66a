package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;

/**
 * mergekit's {@code karcher}: the Karcher (Riemannian) mean of the models' unit vectors on the hypersphere, with
 * equal weights, found by up to {@code max_iter} gradient steps, then scaled to the models' mean norm. The mean stays
 * a linear combination of the inputs throughout, so the iteration runs on coefficients and the Gram matrix: one
 * pass over the tensor, not one per step.
 */
final class KarcherMerge implements MergeMethod {
  @Override
  public String name() {
    return "karcher";
  }

  @Override
  public String displayName() {
    return "Karcher mean (the Riemannian mean of the models on the hypersphere)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(
        MethodParameter.global("max_iter", 10.0, "the most gradient steps"),
        MethodParameter.global("tol", 1e-5, "stops when the step is shorter; smaller norms and angles count as 0"));
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    double maxIter = number(global, "max_iter", tensorName);
    if (maxIter < 0 || maxIter != Math.rint(maxIter)) {
      throw new UserError("parameters.max_iter for `" + tensorName + "` must be a whole number ≥ 0, not " + maxIter);
    }
    double tol = number(global, "tol", tensorName);
    return Weights.ruled(new TensorRule.Combination(TensorRule.Segments.TENSOR,
        gram -> coefficients((int) Math.min(maxIter, 10_000), tol, gram)), perModel.size());
  }

  /** The weights of the models from their Gram matrix, in mergekit's steps. */
  static double[] coefficients(int maxIter, double tol, double[][] gram) {
    int n = gram.length;
    if (n == 1) {
      return new double[] {1};
    }
    double[] norms = new double[n];
    int valid = 0;
    for (int i = 0; i < n; i++) {
      norms[i] = Math.sqrt(gram[i][i]);
      valid += norms[i] > tol ? 1 : 0;
    }
    double[] result = new double[n];
    if (valid == 0) {
      return result;
    }
    // Unit vectors uᵢ = xᵢ / ‖xᵢ‖ and their Gram matrix; the mean is Σ mean[i]·uᵢ over the valid ones.
    double[][] units = new double[n][n];
    double[] alpha = new double[n];
    int firstValid = -1;
    for (int i = 0; i < n; i++) {
      if (norms[i] > tol) {
        alpha[i] = 1.0 / valid;
        firstValid = firstValid < 0 ? i : firstValid;
        for (int j = 0; j < n; j++) {
          units[i][j] = norms[j] > tol ? gram[i][j] / (norms[i] * norms[j]) : 0;
        }
      }
    }
    double[] mean = alpha.clone();
    double meanNorm = Math.sqrt(Math.max(0, Gram.quadratic(units, mean, mean)));
    if (meanNorm < tol) {
      mean = new double[n];
      mean[firstValid] = 1;
    } else {
      scale(mean, 1 / meanNorm);
    }
    for (int step = 0; step < maxIter; step++) {
      double[] tangent = new double[n];
      for (int i = 0; i < n; i++) {
        if (alpha[i] == 0) {
          continue;
        }
        double[] unit = new double[n];
        unit[i] = 1;
        double dot = Math.min(1, Math.max(-1, Gram.quadratic(units, mean, unit)));
        double theta = Math.acos(dot);
        if (theta < tol) {
          continue;
        }
        double factor = alpha[i] * (theta / Math.sin(theta));
        tangent[i] += factor;
        for (int j = 0; j < n; j++) {
          tangent[j] -= factor * dot * mean[j];
        }
      }
      double tangentNorm = Math.sqrt(Math.max(0, Gram.quadratic(units, tangent, tangent)));
      if (tangentNorm < tol) {
        break;
      }
      for (int j = 0; j < n; j++) {
        mean[j] = Math.cos(tangentNorm) * mean[j] + Math.sin(tangentNorm) * (tangent[j] / tangentNorm);
      }
      double unitNorm = Math.sqrt(Math.max(0, Gram.quadratic(units, mean, mean)));
      if (unitNorm > tol) {
        scale(mean, 1 / unitNorm);
      }
    }
    // The scale counts every model, those of norm about 0 too.
    double scale = 0;
    for (int i = 0; i < n; i++) {
      scale += norms[i] / n;
    }
    for (int i = 0; i < n; i++) {
      result[i] = norms[i] > tol ? scale * mean[i] / norms[i] : 0;
    }
    return result;
  }

  private static void scale(double[] v, double factor) {
    for (int i = 0; i < v.length; i++) {
      v[i] *= factor;
    }
  }
}
