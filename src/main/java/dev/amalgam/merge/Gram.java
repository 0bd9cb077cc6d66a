package dev.amalgam.merge;

/** Gram matrices of the vectors a {@link TensorRule.Combination} combines, and quadratic forms over them. */
final class Gram {
  private Gram() {}

  /** {@code aᵀ·G·b}: the dot product of the combinations Σ aᵢ·vᵢ and Σ bⱼ·vⱼ. */
  static double quadratic(double[][] gram, double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        sum += a[i] * gram[i][j] * b[j];
      }
    }
    return sum;
  }

  /**
   * Adds the products of elements {@code [from, to)} of the vectors to {@code sums}, laid out as the upper
   * triangle, row by row ({@code (0,0), (0,1), ..., (1,1), ...}): float32 products, exact in float64, summed in a
   * fixed order that does not wait on each addition: element e goes to lane (e − from) % 4, and the lanes are added
   * last, in lane order.
   */
  static void accumulate(float[][] vectors, int from, int to, double[] sums) {
    int k = 0;
    for (int i = 0; i < vectors.length; i++) {
      for (int j = i; j < vectors.length; j++) {
        float[] a = vectors[i];
        float[] b = vectors[j];
        double lane0 = 0;
        double lane1 = 0;
        double lane2 = 0;
        double lane3 = 0;
        int e = from;
        for (; e + 3 < to; e += 4) {
          lane0 += (double) a[e] * b[e];
          lane1 += (double) a[e + 1] * b[e + 1];
          lane2 += (double) a[e + 2] * b[e + 2];
          lane3 += (double) a[e + 3] * b[e + 3];
        }
        for (int lane = 0; e < to; e++, lane++) {
          double product = (double) a[e] * b[e];
          switch (lane) {
            case 0 -> lane0 += product;
            case 1 -> lane1 += product;
            default -> lane2 += product;
          }
        }
        sums[k++] += lane0 + lane1 + lane2 + lane3;
      }
    }
  }

  /** The number of sums {@link #accumulate} keeps for {@code n} vectors. */
  static int triangle(int n) {
    return n * (n + 1) / 2;
  }

  /** The symmetric matrix of a triangle of sums. */
  static double[][] matrix(double[] sums, int offset, int n) {
    double[][] gram = new double[n][n];
    int k = offset;
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        gram[i][j] = sums[k];
        gram[j][i] = sums[k++];
      }
    }
    return gram;
  }
}
