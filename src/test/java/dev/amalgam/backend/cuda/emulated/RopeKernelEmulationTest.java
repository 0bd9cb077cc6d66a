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

/**
 * rope.cu executed on the CPU (see {@link KernelEmulator}): {@code rope} against a float64 rotate-half rotation,
 * and {@code rope_kv_store} against {@code rope} and a plain copy into the cache.
 */
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
    float[] x = KernelEmulator.gaussians(random, rows * heads * headDim, 1f);
    int[] positions = {0, 1, 17, 4095, 100_000};
    float[] invFreq = inverseFrequencies(headDim);

    float[] rotated = rope(x, positions, invFreq, rows, heads, headDim);

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
    double error = KernelEmulator.relativeL2(rotated, expected);
    assertTrue(error < 1e-5, "rope differs from the reference by " + error);
  }

  @Test
  void ropeKvStoreRotatesAsRopeAndStoresKeysAndValues() throws Exception {
    int rows = 3;
    int heads = 4;
    int kvHeads = 2;
    int headDim = 64;
    int kvDim = kvHeads * headDim;
    int slots = 2;
    int maxPositions = 9;
    Random random = new Random(8);
    float[] q = KernelEmulator.gaussians(random, rows * heads * headDim, 1f);
    float[] k = KernelEmulator.gaussians(random, rows * kvDim, 1f);
    float[] v = KernelEmulator.gaussians(random, rows * kvDim, 1f);
    float[] kCache = KernelEmulator.gaussians(random, slots * maxPositions * kvDim, 1f);  // earlier steps' rows, to be kept
    float[] vCache = KernelEmulator.gaussians(random, slots * maxPositions * kvDim, 1f);
    int[] slotOfRow = {1, 0, 1};
    int[] positions = {0, 8, 5};
    float[] invFreq = inverseFrequencies(headDim);

    // CudaBackend.rotaryAttention: blocksFor(rows * (heads + kv heads) * head_dim / 2) blocks.
    KernelEmulator.Launch launch = rope.launch("rope_kv_store",
        blocksFor((long) rows * (heads + kvHeads) * headDim / 2), 1, 1, THREADS);
    int qb = launch.buffer(bytes(q));
    int kb = launch.buffer(bytes(k));
    int vb = launch.buffer(bytes(v));
    int kc = launch.buffer(bytes(kCache));
    int vc = launch.buffer(bytes(vCache));
    int sb = launch.buffer(bytes(slotOfRow));
    int pb = launch.buffer(bytes(positions));
    int fb = launch.buffer(bytes(invFreq));
    KernelEmulator.Result result = launch.pointer(qb).pointer(kb).pointer(vb).pointer(kc).pointer(vc).pointer(sb)
        .pointer(pb).pointer(fb).i32(rows).i32(heads).i32(kvHeads).i32(headDim).i32(maxPositions).run();

    float[] rotatedQ = rope(q, positions, invFreq, rows, heads, headDim);
    float[] rotatedK = rope(k, positions, invFreq, rows, kvHeads, headDim);
    assertArrayEquals(rotatedQ, result.floats(qb), "q rotated as rope rotates it");
    assertArrayEquals(rotatedK, result.floats(kb), "k rotated as rope rotates it");
    assertArrayEquals(bytes(v), result.bytes(vb), "v is only read");
    for (int t = 0; t < rows; t++) {
      int at = (slotOfRow[t] * maxPositions + positions[t]) * kvDim;
      System.arraycopy(rotatedK, t * kvDim, kCache, at, kvDim);
      System.arraycopy(v, t * kvDim, vCache, at, kvDim);
    }
    assertArrayEquals(kCache, result.floats(kc), "the key cache: rotated keys at the rows' slots and positions");
    assertArrayEquals(vCache, result.floats(vc), "the value cache: values at the rows' slots and positions");
  }

  /** {@code x} rotated by the rope kernel, which must leave its positions and frequencies alone. */
  private static float[] rope(float[] x, int[] positions, float[] invFreq, int rows, int heads, int headDim)
      throws Exception {
    // CudaBackend.rope: blocksFor(rows * heads * head_dim / 2) blocks.
    KernelEmulator.Launch launch = rope.launch("rope", blocksFor((long) rows * heads * headDim / 2), 1, 1, THREADS);
    int buffer = launch.buffer(bytes(x));
    int p = launch.buffer(bytes(positions));
    int f = launch.buffer(bytes(invFreq));
    KernelEmulator.Result result = launch.pointer(buffer).pointer(p).pointer(f).i32(rows).i32(heads)
        .i32(headDim).run();
    assertArrayEquals(bytes(positions), result.bytes(p), "rope wrote the positions");
    assertArrayEquals(bytes(invFreq), result.bytes(f), "rope wrote the frequencies");
    return result.floats(buffer);
  }

  private static float[] inverseFrequencies(int headDim) {
    float[] invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = (float) Math.pow(1_000_000.0, -2.0 * i / headDim);
    }
    return invFreq;
  }

}
