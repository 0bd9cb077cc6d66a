package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.Closeness.assertClose;
import static dev.amalgam.testing.LittleEndian.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.OpReference;
import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.testing.RandomArrays;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** norm.cu executed on the CPU through its launchers (see {@link EmulatedGpu}) against {@link OpReference}. */
class NormKernelEmulationTest {
  private static final int ROWS = 3;
  private static final int COLS = 700;  // not a multiple of the block: threads own different counts
  private static final float EPS = 1e-6f;

  @TempDir Path dir;
  private EmulatedGpu gpu;
  private final Random random = new Random(11);

  @BeforeEach
  void open() {
    gpu = EmulatedGpu.open(dir, 1);
  }

  @Test
  void rmsNormMatchesTheReferenceInPlaceAndNot() {
    float[] x = RandomArrays.gaussians(random, ROWS * COLS, 3f);
    short[] weight = RandomArrays.bf16Bits(bf16Scales(COLS));
    double[] expected = OpReference.rmsNorm(x, RandomArrays.widened(weight), EPS);

    long in = gpu.upload(x);
    long w = gpu.upload(weight);
    long out = gpu.poisoned(4L * ROWS * COLS);
    NormKernels.rmsNorm(gpu, in, w, out, EPS, ROWS, COLS);
    assertClose(gpu.floats(out, ROWS * COLS), expected, 1e-5, "rms_norm");
    assertArrayEquals(bytes(x), gpu.bytes(in), "rms_norm wrote its input");

    NormKernels.rmsNorm(gpu, in, w, in, EPS, ROWS, COLS);
    assertClose(gpu.floats(in, ROWS * COLS), expected, 1e-5, "rms_norm in place");
  }

  @Test
  void addRmsNormUpdatesTheResidualAndNormalizesIt() {
    float[] residual = RandomArrays.gaussians(random, ROWS * COLS, 2f);
    float[] delta = RandomArrays.gaussians(random, ROWS * COLS, 0.5f);
    short[] weight = RandomArrays.bf16Bits(bf16Scales(COLS));
    float[] sum = new float[residual.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = residual[i] + delta[i];
    }

    long r = gpu.upload(residual);
    long d = gpu.upload(delta);
    long w = gpu.upload(weight);
    long out = gpu.poisoned(4L * ROWS * COLS);
    NormKernels.addRmsNorm(gpu, r, d, w, out, EPS, ROWS, COLS);
    assertArrayEquals(sum, gpu.floats(r, sum.length), "the residual is the float32 sum, bit for bit");
    assertArrayEquals(bytes(delta), gpu.bytes(d), "add_rms_norm wrote delta");
    assertClose(gpu.floats(out, sum.length), OpReference.rmsNorm(sum, RandomArrays.widened(weight), EPS), 1e-5,
        "add_rms_norm");
  }

  /** Norm weights: scales around 1. */
  private float[] bf16Scales(int n) {
    float[] values = RandomArrays.gaussians(random, n, 0.2f);
    for (int i = 0; i < n; i++) {
      values[i] += 1f;
    }
    return values;
  }
}
