package dev.amalgam.merge;

/**
 * A float64 sum in a fixed order that does not wait on each addition: element i goes to lane i % 4, and the four
 * lanes are added last, in lane order. The same values give the same bits on every run, at about a quarter of the
 * latency of one running sum.
 */
final class LaneSums {
  private LaneSums() {}

  static double sum(float[] values, int n) {
    double lane0 = 0;
    double lane1 = 0;
    double lane2 = 0;
    double lane3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      lane0 += values[i];
      lane1 += values[i + 1];
      lane2 += values[i + 2];
      lane3 += values[i + 3];
    }
    for (; i < n; i++) {
      switch (i & 3) {
        case 0 -> lane0 += values[i];
        case 1 -> lane1 += values[i];
        case 2 -> lane2 += values[i];
        default -> lane3 += values[i];
      }
    }
    return lane0 + lane1 + lane2 + lane3;
  }
}
