package dev.amalgam.backend.cuda;

import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.poisoned;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.random;
import static dev.amalgam.testing.Closeness.assertClose;

import dev.amalgam.backend.OpReference;
import dev.amalgam.backend.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link CudaBackend#attention} against {@link OpReference#attention} over its own copy of the cache: prefills in
 * several pieces (later rows must see the cache rows earlier calls wrote), prompts prefilled together, a
 * batched decode step over several slots at different positions, and a long context that spreads over every
 * sequence split.
 */
class CudaAttentionGpuTest extends GpuBackendTest {
  /** The cache and the reference, one attention call at a time. */
  private static final class Case implements AutoCloseable {
    final int heads;
    final int kvHeads;
    final int headDim;
    final int maxPositions;
    final float scale;
    final float[] keys;    // the reference's copy of the caches, [slots, maxPositions, kvDim]
    final float[] values;
    final Tensor kCache;
    final Tensor vCache;
    final Random random;

    Case(int slots, int maxPositions, int heads, int kvHeads, int headDim, long seed) {
      this.heads = heads;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      this.maxPositions = maxPositions;
      this.scale = (float) (1 / Math.sqrt(headDim));
      this.keys = new float[slots * maxPositions * kvHeads * headDim];
      this.values = new float[keys.length];
      this.kCache = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim);
      this.vCache = backend.allocateKvCache(slots, maxPositions, kvHeads * headDim);
      this.random = new Random(seed);
    }

    /** Runs one attention call on the GPU and checks it against the reference. */
    void check(int[] slots, int[] positions, String what) {
      int rows = slots.length;
      int qDim = heads * headDim;
      int kvDim = kvHeads * headDim;
      float[] q = random(random, rows * qDim, 1f);
      float[] k = random(random, rows * kvDim, 1f);
      float[] v = random(random, rows * kvDim, 1f);
      for (int t = 0; t < rows; t++) {
        int at = (slots[t] * maxPositions + positions[t]) * kvDim;
        System.arraycopy(k, t * kvDim, keys, at, kvDim);
        System.arraycopy(v, t * kvDim, values, at, kvDim);
      }
      double[] expected = OpReference.attention(q, keys, values, slots, positions,
          new OpReference.Heads(heads, kvHeads, headDim, maxPositions), scale);
      try (Tensor tq = backend.uploadFloats(q, rows, qDim);
          Tensor tk = backend.uploadFloats(k, rows, kvDim);
          Tensor tv = backend.uploadFloats(v, rows, kvDim);
          Tensor ts = backend.allocateInts(rows);
          Tensor tp = backend.allocateInts(rows);
          Tensor out = poisoned(backend, rows, qDim)) {
        backend.writeInts(ts, slots);
        backend.writeInts(tp, positions);
        backend.attention(tq, tk, tv, kCache, vCache, ts, tp, heads, kvHeads, headDim, scale, out);
        assertClose(backend.download(out), expected, 1e-5, what);
      }
    }

    void prefill(int slot, int start, int count, String what) {
      int[] slots = new int[count];
      int[] positions = new int[count];
      for (int i = 0; i < count; i++) {
        slots[i] = slot;
        positions[i] = start + i;
      }
      check(slots, positions, what);
    }

    @Override
    public void close() {
      kCache.close();
      vCache.close();
    }
  }

  @ParameterizedTest(name = "{0} heads over {1} KV heads, head_dim {2}")
  @CsvSource({"4, 2, 32", "12, 2, 128", "8, 8, 64", "7, 1, 256"})
  void prefillInPiecesThenBatchedDecode(int heads, int kvHeads, int headDim) {
    try (Case c = new Case(3, 64, heads, kvHeads, headDim, 11L * heads + headDim)) {
      c.prefill(1, 0, 5, "prefill of slot 1");
      c.prefill(1, 5, 4, "second prefill of slot 1, reading the first");
      c.prefill(0, 0, 1, "one-token prefill of slot 0");
      c.prefill(2, 0, 40, "prefill of slot 2");
      c.check(new int[] {1, 0, 2}, new int[] {9, 1, 40}, "batched decode over three slots");
      c.check(new int[] {2}, new int[] {41}, "single decode");
    }
  }

  /** More rows than slots take attention_prefill; here its blocks hold rows of three slots. */
  @Test
  void promptsPrefilledTogetherThenDecoded() {
    try (Case c = new Case(4, 64, 12, 2, 128, 31)) {
      int[] lengths = {11, 5, 3};
      int[] slotOf = {3, 1, 0};
      int rows = 19;
      int[] slots = new int[rows];
      int[] positions = new int[rows];
      for (int p = 0, t = 0; p < lengths.length; p++) {
        for (int i = 0; i < lengths[p]; i++, t++) {
          slots[t] = slotOf[p];
          positions[t] = i;
        }
      }
      c.check(slots, positions, "three prompts in one pass");
      c.check(new int[] {3, 1, 0}, new int[] {11, 5, 3}, "a decode step over their slots");
    }
  }

  @Test
  void longContextDecodeUsesEverySplit() {
    // Few heads, so one decode row is split over the most parts; the reference stays cheap.
    try (Case c = new Case(1, 3000, 2, 1, 64, 99)) {
      c.prefill(0, 0, 2000, "long prefill");
      c.check(new int[] {0}, new int[] {2000}, "decode after 2000 positions");
      c.check(new int[] {0}, new int[] {2001}, "next decode");
    }
  }
}
