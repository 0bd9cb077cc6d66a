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

/**
 * rope.cu executed on the CPU through its launchers (see {@link EmulatedGpu}): {@code rope} against
 * {@link OpReference#rope}, and {@code rope_kv_store} bit for bit against {@code rope} and a plain copy into the
 * cache.
 */
class RopeKernelEmulationTest {
  @TempDir Path dir;
  private EmulatedGpu gpu;

  @BeforeEach
  void open() {
    gpu = EmulatedGpu.open(dir, 1);
  }

  @Test
  void rotatesEveryHeadByItsRowsPosition() {
    int heads = 6;
    int headDim = 128;
    int[] positions = {0, 1, 17, 4095, 100_000};
    float[] x = RandomArrays.gaussians(new Random(7), positions.length * heads * headDim, 1f);
    float[] invFreq = inverseFrequencies(headDim);
    assertClose(rope(x, positions, invFreq, heads, headDim), OpReference.rope(x, positions, invFreq, headDim), 1e-5,
        "rope");
  }

  @Test
  void ropeKvStoreRotatesAsRopeAndStoresKeysAndValues() {
    int rows = 3;
    int heads = 4;
    int kvHeads = 2;
    int headDim = 64;
    int kvDim = kvHeads * headDim;
    int slots = 2;
    int maxPositions = 9;
    Random random = new Random(8);
    float[] q = RandomArrays.gaussians(random, rows * heads * headDim, 1f);
    float[] k = RandomArrays.gaussians(random, rows * kvDim, 1f);
    float[] v = RandomArrays.gaussians(random, rows * kvDim, 1f);
    float[] kCache = RandomArrays.gaussians(random, slots * maxPositions * kvDim, 1f);  // earlier rows, kept
    float[] vCache = RandomArrays.gaussians(random, slots * maxPositions * kvDim, 1f);
    int[] slotOfRow = {1, 0, 1};
    int[] positions = {0, 8, 5};
    float[] invFreq = inverseFrequencies(headDim);

    long qb = gpu.upload(q);
    long kb = gpu.upload(k);
    long vb = gpu.upload(v);
    long kc = gpu.upload(kCache);
    long vc = gpu.upload(vCache);
    RopeKernels.ropeKvStore(gpu, qb, kb, vb, kc, vc, gpu.upload(slotOfRow), gpu.upload(positions),
        gpu.upload(invFreq), rows, heads, kvHeads, headDim, maxPositions);

    float[] rotatedQ = rope(q, positions, invFreq, heads, headDim);
    float[] rotatedK = rope(k, positions, invFreq, kvHeads, headDim);
    assertArrayEquals(rotatedQ, gpu.floats(qb, q.length), "q rotated as rope rotates it");
    assertArrayEquals(rotatedK, gpu.floats(kb, k.length), "k rotated as rope rotates it");
    assertArrayEquals(bytes(v), gpu.bytes(vb), "v is only read");
    for (int t = 0; t < rows; t++) {
      int at = (slotOfRow[t] * maxPositions + positions[t]) * kvDim;
      System.arraycopy(rotatedK, t * kvDim, kCache, at, kvDim);
      System.arraycopy(v, t * kvDim, vCache, at, kvDim);
    }
    assertArrayEquals(kCache, gpu.floats(kc, kCache.length), "the key cache: rotated keys at the rows' places");
    assertArrayEquals(vCache, gpu.floats(vc, vCache.length), "the value cache: values at the rows' places");
  }

  /** {@code x} rotated by the rope kernel, which must leave its positions and frequencies alone. */
  private float[] rope(float[] x, int[] positions, float[] invFreq, int heads, int headDim) {
    long xs = gpu.upload(x);
    long p = gpu.upload(positions);
    long f = gpu.upload(invFreq);
    RopeKernels.rope(gpu, xs, p, f, positions.length, heads, headDim);
    assertArrayEquals(bytes(positions), gpu.bytes(p), "rope wrote the positions");
    assertArrayEquals(bytes(invFreq), gpu.bytes(f), "rope wrote the frequencies");
    return gpu.floats(xs, x.length);
  }

  private static float[] inverseFrequencies(int headDim) {
    float[] invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = (float) Math.pow(1_000_000.0, -2.0 * i / headDim);
    }
    return invFreq;
  }
}
