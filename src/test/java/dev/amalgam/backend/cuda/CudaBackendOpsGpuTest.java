package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.OpReference;
import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.RandomArrays;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the CUDA backend does beyond {@link CudaBackendConformanceGpuTest}: weights of every dtype stored as bf16,
 * linear layers above the gemv path's rows, row copies; and the helpers the other CUDA tests share. Every output is
 * poisoned with 0xFF bytes (NaN in float32) first, so an element an op fails to write shows up as NaN.
 */
class CudaBackendOpsGpuTest extends GpuBackendTest {
  static final byte POISON = (byte) 0xFF;
  // ---- helpers shared with the other CUDA backend tests ---------------------------------------------

  static float[] random(Random random, int n, float scale) {
    return RandomArrays.gaussians(random, n, scale);
  }

  /** The values rounded to bf16 and widened back: what a bf16 weight holds. */
  static float[] bf16(float[] values) {
    return RandomArrays.roundedToBf16(values);
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
    double[] product = OpReference.linear(bf16(x), w, null, in);
    double[] withBias = OpReference.linear(bf16(x), w, b, in);
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
