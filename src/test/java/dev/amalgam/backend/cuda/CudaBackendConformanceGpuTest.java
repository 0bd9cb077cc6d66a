package dev.amalgam.backend.cuda;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.BackendConformance;
import org.junit.jupiter.api.Tag;

/** The CUDA backend over the conformance cases, where there is a GPU. */
@Tag("gpu")
class CudaBackendConformanceGpuTest extends BackendConformance {
  @Override
  protected Backend open() {
    return CudaBackend.open(0);
  }

  /** cuBLAS and the gemv kernels multiply bf16 by bf16: the input is rounded once, to nearest even. */
  @Override
  protected boolean roundsLinearInputsToBf16() {
    return true;
  }

  /**
   * float32 arithmetic with FMA contraction and other summation orders than the CPU's: about 1e-6 of a sum's
   * size; the linear layers, whose bf16 input rounding the reference reproduces, sum in float32 (1e-5);
   * rope's device sinf/cosf of angles up to 1e5 radians are within a few float32 steps of the angle.
   */
  @Override
  protected double tolerance(Op op) {
    return switch (op) {
      case EXACT -> 1e-30;
      case ELEMENTWISE, NORM -> 1e-6;
      case LINEAR, ATTENTION -> 1e-5;
      case ROPE -> 1e-4;
    };
  }
}
