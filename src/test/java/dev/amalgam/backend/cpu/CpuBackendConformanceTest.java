package dev.amalgam.backend.cpu;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.BackendConformance;

/** The CPU backend (libtorch, float32) over the conformance cases. */
class CpuBackendConformanceTest extends BackendConformance {
  @Override
  protected Backend open() {
    return new CpuBackend();
  }

  /** libtorch multiplies the float32 input by the weights widened to float32. */
  @Override
  protected boolean roundsLinearInputsToBf16() {
    return false;
  }

  /**
   * float32 arithmetic throughout: a gather is a copy; sums over a few hundred to a few thousand terms round to
   * about 1e-6 of their size; rope's cos and sin of float32 angles up to 1e5 radians differ from float64's by
   * a few float32 steps of the angle.
   */
  @Override
  protected double tolerance(Op op) {
    return switch (op) {
      case EXACT -> 1e-30;
      case ELEMENTWISE, NORM, LINEAR, ATTENTION -> 1e-5;
      case ROPE -> 1e-4;
    };
  }
}
