package dev.amalgam.merge;

/**
 * A float64 sum in a fixed order that does not wait on each addition and that a GPU block computes the same way
 * ({@code merge_statistics_block_sums} in merge.cu): element i goes to lane i % 256, each lane adds its elements
 * in sequence, and the lanes are added in a tree, lane j taking lane j + h for h = 128, 64, ..., 1. The same
 * values give the same bits on every run and device.
 */
final class LaneSums {
  static final int LANES = 256;

  private LaneSums() {}

  static double sum(float[] values, int n) {
    double[] lanes = new double[LANES];
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
      for (int j = 0; j < LANES; j++) {
        lanes[j] += values[i + j];
      }
    }
    for (int j = 0; i + j < n; j++) {
      lanes[j] += values[i + j];
    }
    for (int half = LANES / 2; half > 0; half >>= 1) {
      for (int j = 0; j < half; j++) {
        lanes[j] += lanes[j + half];
      }
    }
    return lanes[0];
  }
}
