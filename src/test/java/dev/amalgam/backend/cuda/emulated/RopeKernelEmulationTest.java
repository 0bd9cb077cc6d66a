package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.GridStride.THREADS;
import static dev.amalgam.backend.cuda.emulated.GridStride.blocksFor;
import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rope.cu executed on the CPU (see {@link KernelEmulator}) against a float64 rotate-half rotation. */
class RopeKernelEmulationTest {
  @TempDir static Path dir;
  private static KernelEmulator rope;

  @BeforeAll
  static void compile() throws Exception {
    rope = KernelEmulator.compile("rope.cu", dir);
  }

  @Test
  void rotatesEveryHeadByItsRowsPosition() throws Exception {
    int rows = 5;
    int heads = 6;
    int headDim = 128;
    int half = headDim / 2;
    Random random = new Random(7);
    float[] x = new float[rows * heads * headDim];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    int[] positions = {0, 1, 17, 4095, 100_000};
    float[] invFreq = new float[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = (float) Math.pow(1_000_000.0, -2.0 * i / headDim);
    }

    // CudaBackend.rope: blocksFor(rows * heads * head_dim / 2) blocks.
    KernelEmulator.Launch launch = rope.launch("rope", blocksFor((long) rows * heads * half), 1, 1, THREADS);
    int buffer = launch.buffer(bytes(x));
    int p = launch.buffer(bytes(positions));
    int f = launch.buffer(bytes(invFreq));
    KernelEmulator.Result result = launch.pointer(buffer).pointer(p).pointer(f).i32(rows).i32(heads)
        .i32(headDim).run();

    double[] expected = new double[x.length];
    for (int row = 0; row < rows; row++) {
      for (int h = 0; h < heads; h++) {
        int base = (row * heads + h) * headDim;
        for (int i = 0; i < half; i++) {
          double angle = (float) positions[row] * invFreq[i];  // a float32 product, as the kernel's __fmul_rn
          double x1 = x[base + i];
          double x2 = x[base + i + half];
          expected[base + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          expected[base + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
      }
    }
    double error = KernelEmulator.relativeL2(result.floats(buffer), expected);
    assertTrue(error < 1e-5, "rope differs from the reference by " + error);
    assertArrayEquals(bytes(positions), result.bytes(p), "rope wrote the positions");
    assertArrayEquals(bytes(invFreq), result.bytes(f), "rope wrote the frequencies");
  }
}
