package dev.amalgam.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How far an output is from its reference: relative L2 error, where a NaN (an unwritten poisoned element) is infinitely far. */
public final class Closeness {
  private Closeness() {}

  /** ||actual - expected|| / ||expected||; infinite if any actual element is NaN. */
  public static double relativeL2(float[] actual, double[] expected) {
    assertEquals(expected.length, actual.length, "length");
    double error = 0;
    double norm = 0;
    for (int i = 0; i < actual.length; i++) {
      if (Float.isNaN(actual[i])) {
        return Double.POSITIVE_INFINITY;
      }
      error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
      norm += expected[i] * expected[i];
    }
    return Math.sqrt(error / norm);
  }

  public static double relativeL2(float[] actual, float[] expected) {
    double[] widened = new double[expected.length];
    for (int i = 0; i < expected.length; i++) {
      widened[i] = expected[i];
    }
    return relativeL2(actual, widened);
  }

  public static void assertClose(float[] actual, double[] expected, double tolerance, String what) {
    double error = relativeL2(actual, expected);
    assertTrue(error < tolerance, what + ": relative L2 error " + error + " (infinite: an element was not written)");
  }

  public static void assertClose(float[] actual, float[] expected, double tolerance, String what) {
    double error = relativeL2(actual, expected);
    assertTrue(error < tolerance, what + ": relative L2 error " + error + " (infinite: an element was not written)");
  }
}
