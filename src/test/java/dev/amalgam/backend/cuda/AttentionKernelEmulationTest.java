package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.backend.OpReference;
import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.testing.RandomArrays;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * attention.cu executed on the CPU through its launchers (see {@link EmulatedGpu}) against
 * {@link OpReference#attention}: kv_store then the split decode for a decode step, and attention_prefill for the
 * rows of two prompts prefilled together.
 */
class AttentionKernelEmulationTest {
  private static final int ROWS = 3;
  private static final int SLOTS = 2;
  private static final AttentionKernels.Heads HEADS = new AttentionKernels.Heads(4, 2, 96, 40);  // 3 elements a lane
  private static final int KV_DIM = HEADS.kvDim();
  private static final float SCALE = (float) (1 / Math.sqrt(HEADS.headDim()));

  @TempDir Path dir;

  @Test
  void causalGroupedQueryAttentionOverTheCache() {
    // 8 multiprocessors: 3 parts per (row, head), so row 0 (position 0) has two empty parts.
    EmulatedGpu gpu = EmulatedGpu.open(dir, 8);
    int splits = AttentionKernels.decodeSplits(gpu, ROWS, HEADS);
    assertEquals(3, splits, "the split this case is meant to exercise");
    Random random = new Random(17);
    int[] slots = {1, 0, 1};
    int[] positions = {0, 9, 38};
    float[] q = RandomArrays.gaussians(random, ROWS * HEADS.numHeads() * HEADS.headDim(), 1f);
    float[] k = RandomArrays.gaussians(random, ROWS * KV_DIM, 1f);
    float[] v = RandomArrays.gaussians(random, ROWS * KV_DIM, 1f);
    // Earlier positions hold what previous steps stored; later ones garbage that must not be attended to.
    float[] kCache = RandomArrays.gaussians(random, SLOTS * HEADS.maxPositions() * KV_DIM, 1f);
    float[] vCache = RandomArrays.gaussians(random, SLOTS * HEADS.maxPositions() * KV_DIM, 1f);

    long kc = gpu.upload(kCache);
    long vc = gpu.upload(vCache);
    long sb = gpu.upload(slots);
    long pb = gpu.upload(positions);
    AttentionKernels.kvStore(gpu, gpu.upload(k), gpu.upload(v), kc, vc, sb, pb, ROWS, HEADS);
    for (int t = 0; t < ROWS; t++) {
      int at = (slots[t] * HEADS.maxPositions() + positions[t]) * KV_DIM;
      System.arraycopy(k, t * KV_DIM, kCache, at, KV_DIM);
      System.arraycopy(v, t * KV_DIM, vCache, at, KV_DIM);
    }
    assertArrayEquals(kCache, gpu.floats(kc, kCache.length), "kv_store's key cache");
    assertArrayEquals(vCache, gpu.floats(vc, vCache.length), "kv_store's value cache");

    long partials = gpu.poisoned(AttentionKernels.decodePartialBytes(ROWS, HEADS, splits));
    long out = gpu.poisoned(4L * q.length);
    AttentionKernels.decode(gpu, gpu.upload(q), kc, vc, sb, pb, partials, out, ROWS, HEADS, splits, SCALE);
    assertClose(gpu.floats(out, q.length), OpReference.attention(q, kCache, vCache, slots, positions,
        reference(HEADS), SCALE), 1e-5, "attention");
  }

  @Test
  void prefillOfTwoPromptsSharingBlocks() {
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    Random random = new Random(19);
    // Slot 1 continues from position 25 (9 rows, two tiles and a part), slot 0 starts (5 rows). Rows 0-7 fill
    // block 0 with slot 1; block 1 holds slot 1's last row and slot 0's five, served a slot at a time, and two
    // warps without a row.
    int rows = 14;
    int[] slots = new int[rows];
    int[] positions = new int[rows];
    for (int t = 0; t < rows; t++) {
      slots[t] = t < 9 ? 1 : 0;
      positions[t] = t < 9 ? 25 + t : t - 9;
    }
    float[] q = RandomArrays.gaussians(random, rows * HEADS.numHeads() * HEADS.headDim(), 1f);
    float[] kCache = RandomArrays.gaussians(random, SLOTS * HEADS.maxPositions() * KV_DIM, 1f);
    float[] vCache = RandomArrays.gaussians(random, SLOTS * HEADS.maxPositions() * KV_DIM, 1f);

    long out = gpu.poisoned(4L * q.length);
    AttentionKernels.prefill(gpu, gpu.upload(q), gpu.upload(kCache), gpu.upload(vCache), gpu.upload(slots),
        gpu.upload(positions), out, rows, HEADS, SCALE);
    assertClose(gpu.floats(out, q.length), OpReference.attention(q, kCache, vCache, slots, positions,
        reference(HEADS), SCALE), 1e-5, "attention_prefill");
  }

  private static OpReference.Heads reference(AttentionKernels.Heads heads) {
    return new OpReference.Heads(heads.numHeads(), heads.numKvHeads(), heads.headDim(), heads.maxPositions());
  }
}
