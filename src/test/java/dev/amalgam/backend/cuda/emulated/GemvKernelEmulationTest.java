package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cuda.GenerationKernels;
import dev.amalgam.tensor.FloatBits;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gemv.cu executed on the CPU (see {@link KernelEmulator}) against float64 products of the bf16-rounded rows:
 * {@code gemv_bf16} with one and three layers, and {@code gemv_bf16_swiglu}.
 */
class GemvKernelEmulationTest {
  // CudaBackend.project and swiGlu: ceil(features / GEMV_WARPS) blocks of GEMV_WARPS * 32 threads.
  private static final int WARPS = GenerationKernels.GEMV_WARPS;

  @TempDir static Path dir;
  private static KernelEmulator gemv;

  private final Random random = new Random(13);

  @BeforeAll
  static void compile() throws Exception {
    gemv = KernelEmulator.compile("gemv.cu", dir);
  }

  /** A linear layer's bf16 weight and bias (all zero when it has none), and its float64 reference. */
  private final class Layer {
    final int features;
    final int in;
    final short[] weight;
    final short[] bias;
    final boolean hasBias;

    Layer(int features, int in, boolean hasBias) {
      this.features = features;
      this.in = in;
      this.hasBias = hasBias;
      weight = new short[features * in];
      for (int i = 0; i < weight.length; i++) {
        weight[i] = FloatBits.floatToBf16((float) random.nextGaussian() * 0.05f);
      }
      bias = new short[features];
      for (int o = 0; o < features; o++) {
        bias[o] = hasBias ? FloatBits.floatToBf16((float) random.nextGaussian()) : 0;
      }
    }

    double[] reference(float[] x, int rows) {
      double[] expected = new double[rows * features];
      for (int t = 0; t < rows; t++) {
        for (int o = 0; o < features; o++) {
          double sum = FloatBits.bf16ToFloat(bias[o]);
          for (int i = 0; i < in; i++) {
            float rounded = FloatBits.bf16ToFloat(FloatBits.floatToBf16(x[t * in + i]));
            sum += (double) rounded * FloatBits.bf16ToFloat(weight[o * in + i]);
          }
          expected[t * features + o] = sum;
        }
      }
      return expected;
    }
  }

  @Test
  void threeLayersOfOneInputWithAndWithoutBias() throws Exception {
    // 70 chunks: lanes loop twice or thrice. 21 + 5 + 12 features: layer boundaries fall inside blocks, and the
    // last block has 6 of 8 warps busy.
    int rows = 3;
    int in = 560;
    float[] x = KernelEmulator.gaussians(random, rows * in, 1f);
    Layer[] layers = {new Layer(21, in, true), new Layer(5, in, false), new Layer(12, in, true)};

    KernelEmulator.Launch launch = gemv.launch("gemv_bf16", (21 + 5 + 12 + WARPS - 1) / WARPS, 1, 1, WARPS * 32);
    int xs = launch.buffer(bytes(x));
    int[] outs = new int[3];
    launch.pointer(xs).i32(rows).i32(in);
    for (int n = 0; n < 3; n++) {
      int w = launch.buffer(bytes(layers[n].weight));
      int b = launch.buffer(bytes(layers[n].bias));
      outs[n] = launch.poisoned(4 * rows * layers[n].features);
      launch.pointer(w);
      if (layers[n].hasBias) {
        launch.pointer(b);
      } else {
        launch.nullPointer();
      }
      launch.pointer(outs[n]).i32(layers[n].features);
    }
    KernelEmulator.Result result = launch.run();

    for (int n = 0; n < 3; n++) {
      double error = KernelEmulator.relativeL2(result.floats(outs[n]), layers[n].reference(x, rows));
      assertTrue(error < 1e-5, "gemv_bf16's layer " + n + " differs from the reference by " + error);
    }
    assertArrayEquals(bytes(x), result.bytes(xs), "gemv_bf16 wrote x");
  }

  @Test
  void oneLayerOfTheMostRowsWithoutBias() throws Exception {
    int rows = GenerationKernels.GEMV_MAX_ROWS;
    int in = 256;
    float[] x = KernelEmulator.gaussians(random, rows * in, 1f);
    Layer layer = new Layer(16, in, false);

    KernelEmulator.Launch launch = gemv.launch("gemv_bf16", 16 / WARPS, 1, 1, WARPS * 32);
    int xs = launch.buffer(bytes(x));
    int w = launch.buffer(bytes(layer.weight));
    int out = launch.poisoned(4 * rows * 16);
    launch.pointer(xs).i32(rows).i32(in).pointer(w).nullPointer().pointer(out).i32(16);
    KernelEmulator.Result result = launch.nullPointer().nullPointer().nullPointer().i32(0)
        .nullPointer().nullPointer().nullPointer().i32(0).run();

    double error = KernelEmulator.relativeL2(result.floats(out), layer.reference(x, rows));
    assertTrue(error < 1e-5, "gemv_bf16 differs from the reference by " + error);
  }

  @Test
  void swiGluOfGateAndUp() throws Exception {
    int rows = 5;
    int in = 320;  // 40 chunks: lanes 0-7 loop twice
    int features = 13;
    float[] x = KernelEmulator.gaussians(random, rows * in, 1f);
    Layer gate = new Layer(features, in, true);
    Layer up = new Layer(features, in, false);

    KernelEmulator.Launch launch = gemv.launch("gemv_bf16_swiglu", (features + WARPS - 1) / WARPS, 1, 1,
        WARPS * 32);
    int xs = launch.buffer(bytes(x));
    int gw = launch.buffer(bytes(gate.weight));
    int gb = launch.buffer(bytes(gate.bias));
    int uw = launch.buffer(bytes(up.weight));
    int out = launch.poisoned(4 * rows * features);
    KernelEmulator.Result result = launch.pointer(xs).pointer(gw).pointer(gb).pointer(uw).nullPointer()
        .pointer(out).i32(rows).i32(in).i32(features).run();

    double[] g = gate.reference(x, rows);
    double[] u = up.reference(x, rows);
    double[] expected = new double[g.length];
    for (int e = 0; e < g.length; e++) {
      expected[e] = g[e] / (1 + Math.exp(-g[e])) * u[e];
    }
    double error = KernelEmulator.relativeL2(result.floats(out), expected);
    assertTrue(error < 1e-5, "gemv_bf16_swiglu differs from the reference by " + error);
  }

}
