package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cuda.GenerationKernels;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * attention.cu executed on the CPU (see {@link KernelEmulator}) against a float64 causal grouped-query
 * attention: kv_store, attention_partial and attention_combine in CudaBackend.attention's order for a decode
 * step, and attention_prefill for the rows of two prompts prefilled together.
 */
class AttentionKernelEmulationTest {
  private static final int ROWS = 3;
  private static final int HEADS = 4;
  private static final int KV_HEADS = 2;
  private static final int HEAD_DIM = 96;  // three elements per lane
  private static final int SLOTS = 2;
  private static final int MAX_POSITIONS = 40;
  private static final int KV_DIM = KV_HEADS * HEAD_DIM;
  // CudaBackend.attentionSplits for an emulated 8-multiprocessor GPU: 3 parts per (row, head), so row 0
  // (position 0) has two empty parts.
  private static final int MULTIPROCESSORS = 8;
  private static final int SPLITS =
      Math.min(Math.min((4 * MULTIPROCESSORS + ROWS * HEADS - 1) / (ROWS * HEADS), 32), MAX_POSITIONS);
  private static final int PARTIAL_THREADS = GenerationKernels.ATTENTION_WARPS * 32;

  @TempDir static Path dir;
  private static KernelEmulator attention;

  @BeforeAll
  static void compile() throws Exception {
    attention = KernelEmulator.compile("attention.cu", dir);
  }

  @Test
  void causalGroupedQueryAttentionOverTheCache() throws Exception {
    Random random = new Random(17);
    int[] slots = {1, 0, 1};
    int[] positions = {0, 9, 38};
    float[] q = KernelEmulator.gaussians(random, ROWS * HEADS * HEAD_DIM, 1f);
    float[] k = KernelEmulator.gaussians(random, ROWS * KV_DIM, 1f);
    float[] v = KernelEmulator.gaussians(random, ROWS * KV_DIM, 1f);
    // Earlier positions hold what previous steps stored; later ones garbage that must not be attended to.
    float[] kCache = KernelEmulator.gaussians(random, SLOTS * MAX_POSITIONS * KV_DIM, 1f);
    float[] vCache = KernelEmulator.gaussians(random, SLOTS * MAX_POSITIONS * KV_DIM, 1f);
    float scale = (float) (1 / Math.sqrt(HEAD_DIM));

    KernelEmulator.Launch store = attention.launch("kv_store", GridStride.blocksFor((long) ROWS * KV_DIM), 1, 1,
        GridStride.THREADS);
    int kb = store.buffer(bytes(k));
    int vb = store.buffer(bytes(v));
    int kc = store.buffer(bytes(kCache));
    int vc = store.buffer(bytes(vCache));
    int sb = store.buffer(bytes(slots));
    int pb = store.buffer(bytes(positions));
    KernelEmulator.Result stored = store.pointer(kb).pointer(vb).pointer(kc).pointer(vc).pointer(sb).pointer(pb)
        .i32(ROWS).i32(KV_DIM).i32(MAX_POSITIONS).run();
    for (int t = 0; t < ROWS; t++) {
      int at = (slots[t] * MAX_POSITIONS + positions[t]) * KV_DIM;
      System.arraycopy(k, t * KV_DIM, kCache, at, KV_DIM);
      System.arraycopy(v, t * KV_DIM, vCache, at, KV_DIM);
    }
    assertArrayEquals(kCache, stored.floats(kc), "kv_store's key cache");
    assertArrayEquals(vCache, stored.floats(vc), "kv_store's value cache");

    int parts = ROWS * HEADS * SPLITS;
    KernelEmulator.Launch partial = attention.launch("attention_partial", ROWS, HEADS, SPLITS, PARTIAL_THREADS);
    int qb = partial.buffer(bytes(q));
    kc = partial.buffer(bytes(kCache));
    vc = partial.buffer(bytes(vCache));
    sb = partial.buffer(bytes(slots));
    pb = partial.buffer(bytes(positions));
    int ob = partial.poisoned(4 * parts * HEAD_DIM);
    int mlb = partial.poisoned(4 * parts * 2);
    KernelEmulator.Result partials = partial.pointer(qb).pointer(kc).pointer(vc).pointer(sb).pointer(pb)
        .pointer(ob).pointer(mlb).i32(HEADS).i32(KV_HEADS).i32(HEAD_DIM).i32(MAX_POSITIONS).f32(scale).run();

    KernelEmulator.Launch combine = attention.launch("attention_combine", ROWS, HEADS, 1, HEAD_DIM);
    ob = combine.buffer(partials.bytes(ob));
    mlb = combine.buffer(partials.bytes(mlb));
    int out = combine.poisoned(4 * ROWS * HEADS * HEAD_DIM);
    float[] actual = combine.pointer(ob).pointer(mlb).pointer(out).i32(HEADS).i32(HEAD_DIM).i32(SPLITS).run()
        .floats(out);

    double error = KernelEmulator.relativeL2(actual, reference(q, kCache, vCache, slots, positions, scale));
    assertTrue(error < 1e-5, "attention differs from the reference by " + error);
  }

  @Test
  void prefillOfTwoPromptsSharingBlocks() throws Exception {
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
    float[] q = KernelEmulator.gaussians(random, rows * HEADS * HEAD_DIM, 1f);
    float[] kCache = KernelEmulator.gaussians(random, SLOTS * MAX_POSITIONS * KV_DIM, 1f);
    float[] vCache = KernelEmulator.gaussians(random, SLOTS * MAX_POSITIONS * KV_DIM, 1f);
    float scale = (float) (1 / Math.sqrt(HEAD_DIM));

    // CudaBackend.attendToCache: ceil(rows / PREFILL_ROWS) x heads blocks of PREFILL_ROWS warps.
    int rowsPerBlock = GenerationKernels.PREFILL_ROWS;
    KernelEmulator.Launch launch = attention.launch("attention_prefill", (rows + rowsPerBlock - 1) / rowsPerBlock,
        HEADS, 1, rowsPerBlock * 32);
    int qb = launch.buffer(bytes(q));
    int kc = launch.buffer(bytes(kCache));
    int vc = launch.buffer(bytes(vCache));
    int sb = launch.buffer(bytes(slots));
    int pb = launch.buffer(bytes(positions));
    int out = launch.poisoned(4 * rows * HEADS * HEAD_DIM);
    float[] actual = launch.pointer(qb).pointer(kc).pointer(vc).pointer(sb).pointer(pb).pointer(out).i32(rows)
        .i32(HEADS).i32(KV_HEADS).i32(HEAD_DIM).i32(MAX_POSITIONS).f32(scale).run().floats(out);

    double error = KernelEmulator.relativeL2(actual, reference(q, kCache, vCache, slots, positions, scale));
    assertTrue(error < 1e-5, "attention_prefill differs from the reference by " + error);
  }

  private static double[] reference(float[] q, float[] kCache, float[] vCache, int[] slots, int[] positions,
      float scale) {
    double[] out = new double[slots.length * HEADS * HEAD_DIM];
    for (int t = 0; t < slots.length; t++) {
      for (int h = 0; h < HEADS; h++) {
        int kvOffset = h / (HEADS / KV_HEADS) * HEAD_DIM;
        int length = positions[t] + 1;
        double[] weights = new double[length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < length; j++) {
          int key = (slots[t] * MAX_POSITIONS + j) * KV_DIM + kvOffset;
          double dot = 0;
          for (int d = 0; d < HEAD_DIM; d++) {
            dot += (double) q[(t * HEADS + h) * HEAD_DIM + d] * kCache[key + d];
          }
          weights[j] = dot * scale;
          max = Math.max(max, weights[j]);
        }
        double total = 0;
        for (int j = 0; j < length; j++) {
          weights[j] = Math.exp(weights[j] - max);
          total += weights[j];
        }
        for (int d = 0; d < HEAD_DIM; d++) {
          double sum = 0;
          for (int j = 0; j < length; j++) {
            sum += weights[j] * vCache[(slots[t] * MAX_POSITIONS + j) * KV_DIM + kvOffset + d];
          }
          out[(t * HEADS + h) * HEAD_DIM + d] = sum / total;
        }
      }
    }
    return out;
  }

}
