package dev.amalgam.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every op of {@link CudaBackend} but attention and sampling (see their own tests) against a plain Java
 * reference in double precision, on fresh random inputs, compared by relative L2 error. Every output is
 * poisoned with 0xFF bytes (NaN in float32) first, so an element an op fails to write shows up as NaN.
 */
class CudaBackendOpsGpuTest extends GpuBackendTest {
  static final byte POISON = (byte) 0xFF;
  // ---- helpers shared with the other CUDA backend tests ---------------------------------------------

  static float[] random(Random random, int n, float scale) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return values;
  }

  /** The values rounded to bf16 and widened back: what a bf16 weight holds. */
  static float[] bf16(float[] values) {
    float[] rounded = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      rounded[i] = FloatBits.bf16ToFloat(FloatBits.floatToBf16(values[i]));
    }
    return rounded;
  }

  static HostTensor weight(String name, DType dtype, float[] values, long... shape) {
    ByteBuffer bytes = ByteBuffer.allocateDirect(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      switch (dtype) {
        case BF16 -> bytes.putShort(FloatBits.floatToBf16(v));
        case F16 -> bytes.putShort(FloatBits.floatToF16(v));
        case F32 -> bytes.putFloat(v);
        default -> throw new IllegalArgumentException(dtype.toString());
      }
    }
    return new HostTensor(name, dtype, shape, bytes.flip());
  }

  static Tensor poisoned(CudaBackend backend, long... shape) {
    Tensor t = backend.allocate(shape);
    backend.fill(t, POISON);
    return t;
  }

  static double relativeL2(float[] actual, double[] expected) {
    assertEquals(expected.length, actual.length);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < actual.length; i++) {
      double d = actual[i] - expected[i];
      diff += d * d;
      norm += expected[i] * expected[i];
    }
    return Math.sqrt(diff / norm);
  }

  static void assertClose(float[] actual, double[] expected, double tolerance, String what) {
    double error = relativeL2(actual, expected);
    assertTrue(error < tolerance, what + ": relative L2 error " + error + " (NaN: an element was not written)");
  }

  // ---- tests ----------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0} weights")
  @ValueSource(strings = {"BF16", "F16", "F32"})
  void uploadStoresWeightsAsBf16(String type) {
    DType dtype = DType.valueOf(type);
    float[] values = random(new Random(1), 3000, 2f);
    HostTensor host = weight("w", dtype, values, 30, 100);
    // The reference reads the host bytes back as floats, then rounds once to bf16.
    float[] stored = new float[values.length];
    ByteBuffer bytes = host.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      float f = switch (dtype) {
        case BF16 -> FloatBits.bf16ToFloat(bytes.getShort(2 * i));
        case F16 -> FloatBits.f16ToFloat(bytes.getShort(2 * i));
        default -> bytes.getFloat(4 * i);
      };
      stored[i] = FloatBits.bf16ToFloat(FloatBits.floatToBf16(f));
    }
    try (Tensor t = backend.upload(host)) {
      assertEquals(DType.BF16, t.dtype());
      assertArrayEquals(stored, backend.download(t));
    }
  }

  @Test
  void embeddingGathersRows() {
    Random random = new Random(2);
    int vocab = 50;
    int hidden = 72;
    float[] table = bf16(random(random, vocab * hidden, 1f));
    int[] ids = {3, 49, 0, 3, 17, 17, 8};
    try (Tensor weights = backend.upload(weight("embed", DType.BF16, table, vocab, hidden));
        Tensor idTensor = backend.allocateInts(ids.length);
        Tensor out = poisoned(backend, ids.length, hidden)) {
      backend.writeInts(idTensor, ids);
      backend.embedding(weights, idTensor, out);
      double[] expected = new double[ids.length * hidden];
      for (int t = 0; t < ids.length; t++) {
        for (int c = 0; c < hidden; c++) {
          expected[t * hidden + c] = table[ids[t] * hidden + c];
        }
      }
      assertClose(backend.download(out), expected, 1e-12, "embedding");
    }
  }

  @ParameterizedTest(name = "aliased {0}")
  @ValueSource(booleans = {false, true})
  void rmsNormMatchesTheReference(boolean aliased) {
    Random random = new Random(3);
    int rows = 5;
    int cols = 1536;
    float eps = 1e-6f;
    float[] x = random(random, rows * cols, 3f);
    float[] w = bf16(random(random, cols, 1f));
    try (Tensor in = backend.uploadFloats(x, rows, cols);
        Tensor weight = backend.upload(weight("norm", DType.BF16, w, cols));
        Tensor separate = poisoned(backend, rows, cols)) {
      Tensor out = aliased ? in : separate;
      backend.rmsNorm(in, weight, eps, out);
      double[] expected = new double[rows * cols];
      for (int r = 0; r < rows; r++) {
        double sum = 0;
        for (int c = 0; c < cols; c++) {
          sum += (double) x[r * cols + c] * x[r * cols + c];
        }
        double inverse = 1 / Math.sqrt(sum / cols + eps);
        for (int c = 0; c < cols; c++) {
          expected[r * cols + c] = w[c] * (x[r * cols + c] * inverse);
        }
      }
      assertClose(backend.download(out), expected, 1e-6, "rmsNorm");
    }
  }

  @ParameterizedTest(name = "{0} rows")
  @ValueSource(ints = {1, 3, 17, 130})
  void linearMatchesTheReferenceWithAndWithoutBias(int rows) {
    assertLinearMatchesReference(new Random(4 + rows), rows, 96, 200, 0.1f);
  }

  /**
   * {@code linear} against a double-precision reference of bf16 weights times the activations rounded to bf16
   * (as both the cuBLAS and the gemv path multiply them), with and without bias, into a poisoned output.
   */
  static void assertLinearMatchesReference(Random random, int rows, int in, int outFeatures, float weightScale) {
    float[] x = random(random, rows * in, 1f);
    float[] w = bf16(random(random, outFeatures * in, weightScale));
    float[] b = bf16(random(random, outFeatures, 0.5f));
    float[] xb = bf16(x);
    double[] product = new double[rows * outFeatures];
    double[] withBias = new double[rows * outFeatures];
    for (int t = 0; t < rows; t++) {
      for (int o = 0; o < outFeatures; o++) {
        double sum = 0;
        for (int i = 0; i < in; i++) {
          sum += (double) xb[t * in + i] * w[o * in + i];
        }
        product[t * outFeatures + o] = sum;
        withBias[t * outFeatures + o] = sum + b[o];
      }
    }
    try (Tensor xs = backend.uploadFloats(x, rows, in);
        Tensor weight = backend.upload(weight("w", DType.BF16, w, outFeatures, in));
        Tensor bias = backend.upload(weight("b", DType.BF16, b, outFeatures));
        Tensor out = poisoned(backend, rows, outFeatures)) {
      backend.linear(xs, weight, null, out);
      assertClose(backend.download(out), product, 1e-5, "linear");
      backend.fill(out, POISON);
      backend.linear(xs, weight, bias, out);
      assertClose(backend.download(out), withBias, 1e-5, "linear + bias");
    }
  }

  @ParameterizedTest(name = "head_dim {0}")
  @ValueSource(ints = {32, 128})
  void ropeRotatesHalvesAtEachRowsPosition(int headDim) {
    Random random = new Random(5 + headDim);
    int heads = 3;
    int[] positions = {0, 5, 1000, 100000};
    int rows = positions.length;
    float[] x = random(random, rows * heads * headDim, 1f);
    int half = headDim / 2;
    float[] invFreq = new float[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = 1.0f / (float) Math.pow(10000f, (float) (2 * i) / (float) headDim);
    }
    double[] expected = new double[x.length];
    for (int t = 0; t < rows; t++) {
      for (int h = 0; h < heads; h++) {
        int base = (t * heads + h) * headDim;
        for (int i = 0; i < half; i++) {
          float angle = (float) positions[t] * invFreq[i];
          double c = Math.cos(angle);
          double s = Math.sin(angle);
          expected[base + i] = x[base + i] * c - x[base + i + half] * s;
          expected[base + i + half] = x[base + i + half] * c + x[base + i] * s;
        }
      }
    }
    try (Tensor xs = backend.uploadFloats(x, rows, (long) heads * headDim);
        Tensor pos = backend.allocateInts(rows);
        Tensor inv = backend.uploadFloats(invFreq, half)) {
      backend.writeInts(pos, positions);
      backend.rope(xs, pos, inv, headDim);
      assertClose(backend.download(xs), expected, 1e-5, "rope");
    }
  }

  @ParameterizedTest(name = "out aliases {0}")
  @ValueSource(strings = {"none", "gate", "up"})
  void siluMulMatchesTheReference(String alias) {
    Random random = new Random(6);
    int rows = 3;
    int n = 1000;
    float[] gate = random(random, rows * n, 3f);
    float[] up = random(random, rows * n, 1f);
    double[] expected = new double[gate.length];
    for (int i = 0; i < gate.length; i++) {
      expected[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
    }
    try (Tensor g = backend.uploadFloats(gate, rows, n);
        Tensor u = backend.uploadFloats(up, rows, n);
        Tensor separate = poisoned(backend, rows, n)) {
      Tensor out = switch (alias) {
        case "gate" -> g;
        case "up" -> u;
        default -> separate;
      };
      backend.siluMul(g, u, out);
      assertClose(backend.download(out), expected, 1e-6, "siluMul");
    }
  }

  @ParameterizedTest(name = "out aliases a: {0}")
  @ValueSource(booleans = {false, true})
  void addMatchesTheReference(boolean aliased) {
    Random random = new Random(7);
    float[] a = random(random, 4 * 777, 1f);
    float[] b = random(random, 4 * 777, 1f);
    double[] expected = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      expected[i] = (double) a[i] + b[i];
    }
    try (Tensor ta = backend.uploadFloats(a, 4, 777);
        Tensor tb = backend.uploadFloats(b, 4, 777);
        Tensor separate = poisoned(backend, 4, 777)) {
      Tensor out = aliased ? ta : separate;
      backend.add(ta, tb, out);
      assertClose(backend.download(out), expected, 1e-7, "add");
    }
  }

  @Test
  void copyRowsCopiesExactlyTheRowsAsked() {
    float[] src = random(new Random(8), 6 * 40, 1f);
    try (Tensor s = backend.uploadFloats(src, 6, 40); Tensor d = poisoned(backend, 3, 40)) {
      backend.copyRows(s, 4, d, 1, 2);
      float[] out = backend.download(d);
      for (int c = 0; c < 40; c++) {
        assertTrue(Float.isNaN(out[c]), "row 0 must stay poisoned");
        assertEquals(src[4 * 40 + c], out[40 + c]);
        assertEquals(src[5 * 40 + c], out[80 + c]);
      }
    }
  }
}
