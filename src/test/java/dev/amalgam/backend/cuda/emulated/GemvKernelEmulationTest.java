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

/** gemv.cu executed on the CPU (see {@link KernelEmulator}) against a float64 product of the bf16-rounded rows. */
class GemvKernelEmulationTest {
  // CudaBackend.linear: ceil(out_features / GEMV_WARPS) blocks of GEMV_WARPS * 32 threads.
  private static final int WARPS = GenerationKernels.GEMV_WARPS;

  @TempDir static Path dir;
  private static KernelEmulator gemv;

  private final Random random = new Random(13);

  @BeforeAll
  static void compile() throws Exception {
    gemv = KernelEmulator.compile("gemv.cu", dir);
  }

  @Test
  void threeRowsWithBiasAndAPartlyIdleLastBlock() throws Exception {
    check(3, 560, 21, true);  // 70 chunks: lanes loop twice or thrice; the last block has 5 of 8 warps busy
  }

  @Test
  void theMostRowsWithoutBias() throws Exception {
    check(GenerationKernels.GEMV_MAX_ROWS, 256, 16, false);
  }

  private void check(int rows, int in, int outFeatures, boolean withBias) throws Exception {
    float[] x = new float[rows * in];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    short[] weight = new short[outFeatures * in];
    for (int i = 0; i < weight.length; i++) {
      weight[i] = FloatBits.floatToBf16((float) random.nextGaussian() * 0.05f);
    }
    short[] bias = new short[outFeatures];
    for (int o = 0; o < outFeatures; o++) {
      bias[o] = withBias ? FloatBits.floatToBf16((float) random.nextGaussian()) : 0;
    }

    KernelEmulator.Launch launch = gemv.launch("gemv_bf16", (outFeatures + WARPS - 1) / WARPS, 1, 1, WARPS * 32);
    int xs = launch.buffer(bytes(x));
    int w = launch.buffer(bytes(weight));
    int b = launch.buffer(bytes(bias));
    int out = launch.poisoned(4 * rows * outFeatures);
    launch.pointer(xs).pointer(w);
    if (withBias) {
      launch.pointer(b);
    } else {
      launch.nullPointer();
    }
    KernelEmulator.Result result = launch.pointer(out).i32(rows).i32(in).i32(outFeatures).run();

    double[] expected = new double[rows * outFeatures];
    for (int t = 0; t < rows; t++) {
      for (int o = 0; o < outFeatures; o++) {
        double sum = FloatBits.bf16ToFloat(bias[o]);
        for (int i = 0; i < in; i++) {
          float rounded = FloatBits.bf16ToFloat(FloatBits.floatToBf16(x[t * in + i]));
          sum += (double) rounded * FloatBits.bf16ToFloat(weight[o * in + i]);
        }
        expected[t * outFeatures + o] = sum;
      }
    }
    double error = KernelEmulator.relativeL2(result.floats(out), expected);
    assertTrue(error < 1e-5, "gemv_bf16 differs from the reference by " + error);
    assertArrayEquals(bytes(x), result.bytes(xs), "gemv_bf16 wrote x");
  }
}
