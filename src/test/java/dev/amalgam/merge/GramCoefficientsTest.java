package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The methods that run on coefficients and the Gram matrix against mergekit's algorithms written out on the vectors
 * themselves (in float64), on fresh random vectors: the combination {@code Σ cᵢ·vᵢ} must be the same vector.
 */
class GramCoefficientsTest {
  private final Random random = new Random();

  @RepeatedTest(5)
  void karcherMatchesTheIterationOnVectors() {
    double[][] v = correlated(3, 500);
    assertClose(karcherOnVectors(v, 10, 1e-5), combine(KarcherMerge.coefficients(10, 1e-5, gram(v)), v));
  }

  @RepeatedTest(5)
  void multislerpMatchesTheAlgorithmOnVectors() {
    double[][] v = correlated(3, 500);
    float[] w = {0.5f, 0.3f, 0.2f};
    assertClose(multislerpOnVectors(v, w, 1e-8), combine(MultiSlerpMerge.coefficients(w, true, 1e-8, gram(v), "t"), v));
  }

  @RepeatedTest(5)
  void slerpAndNuslerpMatchTheirFormulas() {
    double[][] v = correlated(2, 300);
    double t = random.nextDouble();
    double[] u0 = scaled(v[0], 1 / norm(v[0]));
    double[] u1 = scaled(v[1], 1 / norm(v[1]));
    double theta = Math.acos(dot(u0, u1));
    double[] expected = new double[v[0].length];
    for (int e = 0; e < expected.length; e++) {
      expected[e] = (Math.sin((1 - t) * theta) * v[0][e] + Math.sin(t * theta) * v[1][e]) / Math.sin(theta);
    }
    assertClose(expected, combine(SlerpMerge.coefficients(t, gram(v)), v));
    assertClose(expected, combine(NuSlerpMerge.coefficients(t, gram(v)), v));
  }

  @Test
  void nearlyColinearVectorsInterpolateLinearly() {
    // slerp's threshold is on the cosine (above 0.9995), nuslerp's on the sine (below 1e-8).
    double[][] near = {{1, 2, 3}, {1, 2, 3.0001}};
    assertArrayEquals(new double[] {0.75, 0.25}, SlerpMerge.coefficients(0.25, gram(near)), 0);
    double[][] parallel = {{1, 2, 3}, {2, 4, 6}};
    assertArrayEquals(new double[] {0.75, 0.25}, NuSlerpMerge.coefficients(0.25, gram(parallel)), 0);
  }

  @Test
  void modelStockWeighsByTheMeanCosine() {
    double[][] v = {{1, 0}, {0, 1}, {1, 1}};
    double cos = (0 + Math.sqrt(0.5) + Math.sqrt(0.5)) / 3;
    double t = 3 * cos / (1 + 2 * cos);
    assertArrayEquals(new double[] {t / 3, t / 3, t / 3}, ModelStockMerge.coefficients(gram(v)), 1e-15);
  }

  /** mergekit's karcher_merge_tensors, in float64 on the vectors. */
  private static double[] karcherOnVectors(double[][] tensors, int maxIter, double tol) {
    int n = tensors.length;
    double[][] units = new double[n][];
    double scale = 0;
    for (int i = 0; i < n; i++) {
      units[i] = scaled(tensors[i], 1 / norm(tensors[i]));
      scale += norm(tensors[i]) / n;
    }
    double[] mean = new double[tensors[0].length];
    for (double[] u : units) {
      add(mean, u, 1.0 / n);
    }
    mean = scaled(mean, 1 / norm(mean));
    for (int step = 0; step < maxIter; step++) {
      double[] tangent = new double[mean.length];
      for (double[] u : units) {
        double c = Math.min(1, Math.max(-1, dot(mean, u)));
        double theta = Math.acos(c);
        if (theta < tol) {
          continue;
        }
        double[] direction = u.clone();
        add(direction, mean, -c);
        add(tangent, direction, (1.0 / n) * theta / Math.sin(theta));
      }
      double tn = norm(tangent);
      if (tn < tol) {
        break;
      }
      double[] next = scaled(mean, Math.cos(tn));
      add(next, tangent, Math.sin(tn) / tn);
      mean = scaled(next, 1 / norm(next));
    }
    return scaled(mean, scale);
  }

  /** mergekit's multislerp, in float64 on the vectors. */
  private static double[] multislerpOnVectors(double[][] tensors, float[] weights, double eps) {
    int n = tensors.length;
    double sum = 0;
    for (float w : weights) {
      sum += w;
    }
    double[][] units = new double[n][];
    double[] mean = new double[tensors[0].length];
    double averageNorm = 0;
    for (int i = 0; i < n; i++) {
      units[i] = scaled(tensors[i], 1 / (norm(tensors[i]) + eps));
      add(mean, units[i], weights[i] / sum);
      averageNorm += norm(tensors[i]) * weights[i] / sum;
    }
    mean = scaled(mean, 1 / norm(mean));
    double[] tangent = new double[mean.length];
    for (int i = 0; i < n; i++) {
      double[] t = units[i].clone();
      add(t, mean, -dot(units[i], mean));
      add(tangent, t, weights[i] / sum);
    }
    double tn = norm(tangent) + eps;
    double[] result = scaled(mean, Math.cos(tn));
    add(result, tangent, Math.sin(tn) / tn);
    return scaled(result, averageNorm);
  }

  /** n vectors sharing a common part, as fine-tunes of one model do. */
  private double[][] correlated(int n, int length) {
    double[] common = new double[length];
    for (int e = 0; e < length; e++) {
      common[e] = random.nextGaussian();
    }
    double[][] v = new double[n][length];
    for (int i = 0; i < n; i++) {
      for (int e = 0; e < length; e++) {
        v[i][e] = (float) (common[e] + 0.5 * random.nextGaussian());
      }
    }
    return v;
  }

  private static double[][] gram(double[][] v) {
    double[][] g = new double[v.length][v.length];
    for (int i = 0; i < v.length; i++) {
      for (int j = 0; j < v.length; j++) {
        g[i][j] = dot(v[i], v[j]);
      }
    }
    return g;
  }

  private static double[] combine(double[] c, double[][] v) {
    double[] out = new double[v[0].length];
    for (int i = 0; i < v.length; i++) {
      add(out, v[i], c[i]);
    }
    return out;
  }

  private static void assertClose(double[] expected, double[] actual) {
    double[] difference = expected.clone();
    add(difference, actual, -1);
    double relative = norm(difference) / norm(expected);
    assertTrue(relative < 1e-9, "relative L2 error " + relative);
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  private static double[] scaled(double[] a, double f) {
    double[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= f;
    }
    return out;
  }

  private static void add(double[] into, double[] a, double f) {
    for (int i = 0; i < into.length; i++) {
      into[i] += a[i] * f;
    }
  }
}
