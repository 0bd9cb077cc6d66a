package dev.amalgam.backend.cuda;

import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.assertLinearMatchesReference;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.bf16;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.poisoned;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.random;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.weight;
import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.backend.OpReference;
import dev.amalgam.backend.Projection;
import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused kernels of the decode step ({@code add_rms_norm}, {@code gemv_bf16}, {@code gemv_bf16_swiglu},
 * {@code rope_kv_store}) against plain Java references in double precision, on fresh random inputs with
 * poisoned outputs, by relative L2 error; and each fused op bit for bit against the unfused ops it stands for.
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
    float[] sum = new float[rows * cols];
    for (int e = 0; e < sum.length; e++) {
      sum[e] = residual[e] + delta[e];
    }
    double[] normed = OpReference.rmsNorm(sum, w, eps);
    try (Tensor fusedResidual = backend.uploadFloats(residual, rows, cols);
        Tensor unfusedResidual = backend.uploadFloats(residual, rows, cols);
        Tensor d = backend.uploadFloats(delta, rows, cols);
        Tensor weight = backend.upload(weight("norm", DType.BF16, w, cols));
        Tensor fusedOut = poisoned(backend, rows, cols);
        Tensor unfusedOut = poisoned(backend, rows, cols)) {
      backend.addRmsNorm(fusedResidual, d, weight, eps, fusedOut);
      float[] newResidual = backend.download(fusedResidual);
      float[] out = backend.download(fusedOut);
      assertArrayEquals(sum, newResidual, "addRmsNorm residual: the float32 sum");
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

  /** q, k and v shapes through one gemv_bf16 launch (up to 8 rows), and through cuBLAS with one conversion (12). */
  @ParameterizedTest(name = "{0} rows")
  @CsvSource({"1", "8", "12"})
  void projectGivesWhatLinearGivesForEachLayer(int rows) {
    Random random = new Random(17 + rows);
    int in = 256;
    int[] features = {96, 32, 40};
    try (Tensor x = backend.uploadFloats(random(random, rows * in, 1f), rows, in)) {
      Tensor[] weights = new Tensor[3];
      Tensor[] biases = new Tensor[3];
      Tensor[] fused = new Tensor[3];
      Tensor[] alone = new Tensor[3];
      for (int n = 0; n < 3; n++) {
        weights[n] = backend.upload(weight("w" + n, DType.BF16, random(random, features[n] * in, 0.06f),
            features[n], in));
        biases[n] = n == 1 ? null : backend.upload(weight("b" + n, DType.BF16, random(random, features[n], 0.5f),
            features[n]));
        fused[n] = poisoned(backend, rows, features[n]);
        alone[n] = poisoned(backend, rows, features[n]);
      }
      backend.project(x, List.of(new Projection(weights[0], biases[0], fused[0]),
          new Projection(weights[1], biases[1], fused[1]), new Projection(weights[2], biases[2], fused[2])));
      for (int n = 0; n < 3; n++) {
        backend.linear(x, weights[n], biases[n], alone[n]);
        assertArrayEquals(backend.download(alone[n]), backend.download(fused[n]), "layer " + n + " as linear");
      }
      for (int n = 0; n < 3; n++) {
        for (Tensor t : new Tensor[] {weights[n], biases[n], fused[n], alone[n]}) {
          if (t != null) {
            t.close();
          }
        }
      }
    }
  }

  /** gemv_bf16_swiglu up to 8 rows; 9 rows take cuBLAS and silu_mul. */
  @ParameterizedTest(name = "{0} rows")
  @CsvSource({"1", "8", "9"})
  void swiGluMatchesTheReferenceAndTheUnfusedOps(int rows) {
    Random random = new Random(19 + rows);
    int in = 512;
    int features = 200;
    float[] x = random(random, rows * in, 1f);
    float[] gw = bf16(random(random, features * in, 0.05f));
    float[] gb = bf16(random(random, features, 0.5f));
    float[] uw = bf16(random(random, features * in, 0.05f));
    float[] xb = bf16(x);
    double[] expected = OpReference.siluMul(OpReference.linear(xb, gw, gb, in), OpReference.linear(xb, uw, null, in));
    try (Tensor xs = backend.uploadFloats(x, rows, in);
        Tensor gate = backend.upload(weight("gate", DType.BF16, gw, features, in));
        Tensor gateBias = backend.upload(weight("gate bias", DType.BF16, gb, features));
        Tensor up = backend.upload(weight("up", DType.BF16, uw, features, in));
        Tensor out = poisoned(backend, rows, features);
        Tensor upOut = poisoned(backend, rows, features);
        Tensor unfusedGate = poisoned(backend, rows, features);
        Tensor unfusedUp = poisoned(backend, rows, features)) {
      backend.swiGlu(xs, new Projection(gate, gateBias, out), new Projection(up, null, upOut));
      float[] fused = backend.download(out);
      assertClose(fused, expected, 1e-5, "swiGlu");

      backend.linear(xs, gate, gateBias, unfusedGate);
      backend.linear(xs, up, null, unfusedUp);
      backend.siluMul(unfusedGate, unfusedUp, unfusedGate);
      assertArrayEquals(backend.download(unfusedGate), fused, "the same as linear, linear, siluMul");
    }
  }

  /** A prefill of one slot and a decode step over three slots, each into two caches: fused and unfused. */
  @Test
  void rotaryAttentionGivesWhatRopeThenAttentionGive() {
    int heads = 4;
    int kvHeads = 2;
    int headDim = 64;
    int slots = 3;
    int maxPositions = 16;
    float scale = (float) (1 / Math.sqrt(headDim));
    Random random = new Random(23);
    float[] frequencies = new float[headDim / 2];
    for (int i = 0; i < frequencies.length; i++) {
      frequencies[i] = (float) Math.pow(10_000.0, -2.0 * i / headDim);
    }
    int[][] slotsOfCall = {{2, 2, 2, 2, 2}, {0, 2, 1}};
    int[][] positionsOfCall = {{0, 1, 2, 3, 4}, {0, 5, 0}};
    try (Tensor invFreq = backend.uploadFloats(frequencies, headDim / 2);
        Tensor fusedK = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim);
        Tensor fusedV = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim);
        Tensor unfusedK = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim);
        Tensor unfusedV = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim)) {
      for (Tensor cache : List.of(fusedK, fusedV, unfusedK, unfusedV)) {
        backend.fill(cache, (byte) 0);  // rows no call writes must compare equal too
      }
      for (int call = 0; call < slotsOfCall.length; call++) {
        int rows = slotsOfCall[call].length;
        float[] q = random(random, rows * heads * headDim, 1f);
        float[] k = random(random, rows * kvHeads * headDim, 1f);
        float[] v = random(random, rows * kvHeads * headDim, 1f);
        try (Tensor rowSlots = backend.allocateInts(rows); Tensor positions = backend.allocateInts(rows);
            Tensor q1 = backend.uploadFloats(q, rows, heads * headDim);
            Tensor k1 = backend.uploadFloats(k, rows, kvHeads * headDim);
            Tensor v1 = backend.uploadFloats(v, rows, kvHeads * headDim);
            Tensor q2 = backend.uploadFloats(q, rows, heads * headDim);
            Tensor k2 = backend.uploadFloats(k, rows, kvHeads * headDim);
            Tensor v2 = backend.uploadFloats(v, rows, kvHeads * headDim);
            Tensor fusedOut = poisoned(backend, rows, heads * headDim);
            Tensor unfusedOut = poisoned(backend, rows, heads * headDim)) {
          backend.writeInts(rowSlots, slotsOfCall[call]);
          backend.writeInts(positions, positionsOfCall[call]);
          backend.rotaryAttention(q1, k1, v1, invFreq, fusedK, fusedV, rowSlots, positions, heads, kvHeads, headDim,
              scale, fusedOut);
          backend.rope(q2, positions, invFreq, headDim);
          backend.rope(k2, positions, invFreq, headDim);
          backend.attention(q2, k2, v2, unfusedK, unfusedV, rowSlots, positions, heads, kvHeads, headDim, scale,
              unfusedOut);
          String what = "call " + call + ": ";
          assertArrayEquals(backend.download(unfusedOut), backend.download(fusedOut), what + "attention output");
          assertArrayEquals(backend.download(q2), backend.download(q1), what + "rotated q");
          assertArrayEquals(backend.download(k2), backend.download(k1), what + "rotated k");
        }
      }
      assertArrayEquals(backend.download(unfusedK), backend.download(fusedK), "key caches");
      assertArrayEquals(backend.download(unfusedV), backend.download(fusedV), "value caches");
    }
  }
}
