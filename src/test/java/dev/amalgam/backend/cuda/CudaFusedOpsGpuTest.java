package dev.amalgam.backend.cuda;

import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.assertClose;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.assertLinearMatchesReference;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.bf16;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.poisoned;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.random;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.weight;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused kernels of the decode step ({@code add_rms_norm}, {@code gemv_bf16}) against plain Java references
 * in double precision, on fresh random inputs with poisoned outputs, by relative L2 error; and
 * {@code add_rms_norm} bit for bit against the unfused ops it stands for.
 */
class CudaFusedOpsGpuTest extends GpuBackendTest {
  @ParameterizedTest(name = "{0} rows of {1}")
  @CsvSource({"1, 1536", "5, 64", "3, 8960"})
  void addRmsNormMatchesTheReferenceAndTheUnfusedOps(int rows, int cols) {
    Random random = new Random(11 + rows);
    float eps = 1e-6f;
    float[] residual = random(random, rows * cols, 3f);
    float[] delta = random(random, rows * cols, 1f);
    float[] w = bf16(random(random, cols, 1f));
    double[] sum = new double[rows * cols];
    double[] normed = new double[rows * cols];
    for (int r = 0; r < rows; r++) {
      double squares = 0;
      for (int c = 0; c < cols; c++) {
        int e = r * cols + c;
        sum[e] = (double) residual[e] + delta[e];
        squares += sum[e] * sum[e];
      }
      double inverse = 1 / Math.sqrt(squares / cols + eps);
      for (int c = 0; c < cols; c++) {
        normed[r * cols + c] = w[c] * (sum[r * cols + c] * inverse);
      }
    }
    try (Tensor fusedResidual = backend.uploadFloats(residual, rows, cols);
        Tensor unfusedResidual = backend.uploadFloats(residual, rows, cols);
        Tensor d = backend.uploadFloats(delta, rows, cols);
        Tensor weight = backend.upload(weight("norm", DType.BF16, w, cols));
        Tensor fusedOut = poisoned(backend, rows, cols);
        Tensor unfusedOut = poisoned(backend, rows, cols)) {
      backend.addRmsNorm(fusedResidual, d, weight, eps, fusedOut);
      float[] newResidual = backend.download(fusedResidual);
      float[] out = backend.download(fusedOut);
      assertClose(newResidual, sum, 1e-7, "addRmsNorm residual");
      assertClose(out, normed, 1e-6, "addRmsNorm output");

      backend.add(unfusedResidual, d, unfusedResidual);
      backend.rmsNorm(unfusedResidual, weight, eps, unfusedOut);
      assertArrayEquals(backend.download(unfusedResidual), newResidual, "the same residual as add");
      assertArrayEquals(backend.download(unfusedOut), out, "the same output as add, then rmsNorm");
    }
  }

  @Test
  void addRmsNormRefusesAnAliasedOutput() {
    try (Tensor x = backend.allocate(2, 64); Tensor d = backend.allocate(2, 64);
        Tensor weight = backend.upload(weight("norm", DType.BF16, new float[64], 64))) {
      assertThrows(IllegalArgumentException.class, () -> backend.addRmsNorm(x, d, weight, 1e-6f, x));
    }
  }

  /**
   * Shapes through {@code gemv_bf16} (up to GEMV_MAX_ROWS rows, inputs in whole 8-element chunks): the 1.5B's
   * k/v (256 x 1536) and down (1536 x 8960) shapes, a feature count that leaves a block part empty, and an
   * input shorter than one chunk per lane. The last two rows are cuBLAS's (9 rows; an input of 100 is not in
   * whole chunks), the path gemv_bf16 must agree with.
   */
  @ParameterizedTest(name = "{0} rows, {1} in, {2} out")
  @CsvSource({"1, 1536, 256", "2, 8960, 1536", "8, 1536, 37", "3, 64, 1000", "4, 8, 13", "9, 1536, 256",
      "2, 100, 37"})
  void linearOfFewRowsMatchesTheReferenceWithAndWithoutBias(int rows, int in, int outFeatures) {
    assertLinearMatchesReference(new Random(13 + rows + in + outFeatures), rows, in, outFeatures,
        (float) (1 / Math.sqrt(in)));
  }
}
