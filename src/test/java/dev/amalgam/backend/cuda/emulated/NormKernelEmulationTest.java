package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static dev.amalgam.backend.cuda.emulated.KernelEmulator.relativeL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cuda.GenerationKernels;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** norm.cu executed on the CPU (see {@link KernelEmulator}) against a float64 RMSNorm. */
class NormKernelEmulationTest {
  // Launch shapes as CudaBackend.rmsNorm / addRmsNorm: one block of NORM_THREADS per row.
  private static final int THREADS = GenerationKernels.NORM_THREADS;
  private static final int ROWS = 3;
  private static final int COLS = 700;  // not a multiple of the block: threads own different counts
  private static final float EPS = 1e-6f;

  @TempDir static Path dir;
  private static KernelEmulator norm;

  private final Random random = new Random(11);

  @BeforeAll
  static void compile() throws Exception {
    norm = KernelEmulator.compile("norm.cu", dir);
  }

  @Test
  void rmsNormMatchesTheReferenceInPlaceAndNot() throws Exception {
    float[] x = KernelEmulator.gaussians(random, ROWS * COLS, 3f);
    short[] weight = bf16Weights(COLS);
    double[] expected = reference(x, weight);

    KernelEmulator.Launch launch = norm.launch("rms_norm", ROWS, 1, 1, THREADS);
    int in = launch.buffer(bytes(x));
    int w = launch.buffer(bytes(weight));
    int out = launch.poisoned(4 * ROWS * COLS);
    KernelEmulator.Result result = launch.pointer(in).pointer(w).pointer(out).f32(EPS).i32(COLS).run();
    assertTrue(relativeL2(result.floats(out), expected) < 1e-5, "rms_norm differs from the reference");
    assertArrayEquals(bytes(x), result.bytes(in), "rms_norm wrote its input");

    KernelEmulator.Launch inPlace = norm.launch("rms_norm", ROWS, 1, 1, THREADS);
    int both = inPlace.buffer(bytes(x));
    w = inPlace.buffer(bytes(weight));
    result = inPlace.pointer(both).pointer(w).pointer(both).f32(EPS).i32(COLS).run();
    assertTrue(relativeL2(result.floats(both), expected) < 1e-5, "rms_norm in place differs from the reference");
  }

  @Test
  void addRmsNormUpdatesTheResidualAndNormalizesIt() throws Exception {
    float[] residual = KernelEmulator.gaussians(random, ROWS * COLS, 2f);
    float[] delta = KernelEmulator.gaussians(random, ROWS * COLS, 0.5f);
    short[] weight = bf16Weights(COLS);
    float[] sum = new float[residual.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = residual[i] + delta[i];
    }

    KernelEmulator.Launch launch = norm.launch("add_rms_norm", ROWS, 1, 1, THREADS);
    int r = launch.buffer(bytes(residual));
    int d = launch.buffer(bytes(delta));
    int w = launch.buffer(bytes(weight));
    int out = launch.poisoned(4 * ROWS * COLS);
    KernelEmulator.Result result = launch.pointer(r).pointer(d).pointer(w).pointer(out).f32(EPS).i32(COLS).run();
    assertArrayEquals(sum, result.floats(r), "the residual is the float32 sum, bit for bit");
    assertArrayEquals(bytes(delta), result.bytes(d), "add_rms_norm wrote delta");
    assertTrue(relativeL2(result.floats(out), reference(sum, weight)) < 1e-5, "add_rms_norm differs");
  }

  private static double[] reference(float[] x, short[] weight) {
    double[] out = new double[x.length];
    for (int row = 0; row < ROWS; row++) {
      double squares = 0;
      for (int c = 0; c < COLS; c++) {
        squares += (double) x[row * COLS + c] * x[row * COLS + c];
      }
      double inverse = 1 / Math.sqrt(squares / COLS + EPS);
      for (int c = 0; c < COLS; c++) {
        out[row * COLS + c] = Float.intBitsToFloat(weight[c] << 16) * (x[row * COLS + c] * inverse);
      }
    }
    return out;
  }


  private short[] bf16Weights(int n) {
    short[] values = new short[n];
    for (int i = 0; i < n; i++) {
      values[i] = (short) (Float.floatToIntBits(1f + 0.2f * (float) random.nextGaussian()) >>> 16);
    }
    return values;
  }
}
