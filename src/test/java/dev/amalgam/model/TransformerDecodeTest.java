package dev.amalgam.model;

import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.io.ModelDirectory;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Transformer#decode}, recorded once per row count and bound to one cache, against
 * {@link Transformer#forward} on the same rows: the same logits while the row count shrinks and grows again
 * (a step recorded earlier must read the inputs written now) and after a switch to another cache. And a
 * prefill of several prompts in one pass against each prompt prefilled alone.
 */
class TransformerDecodeTest {
  /** Matmuls of more rows may sum in another order, so equal within float32 rounding, not bit for bit. */
  private static final double MATMUL_ORDER = 1e-5;


  @Test
  void decodeStepsGiveTheLogitsOfForwardAcrossRowCountsAndCaches() {
    Golden golden = Golden.of("a");
    try (CpuBackend backend = new CpuBackend();
        ModelDirectory dir = ModelDirectory.open(Golden.modelDir("a"));
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      int[][] prompts = {golden.ints("p0.ids"), golden.ints("p1.ids"), golden.ints("p2.ids")};
      for (int cacheRound = 0; cacheRound < 2; cacheRound++) {
        try (KvCache cache = model.newCache(prompts.length, 64)) {
          for (int s = 0; s < prompts.length; s++) {
            model.prefill(prompts[s], cache, s, 0);
          }
          int[] next = {7, 11, 13};
          int[][] rowSlots = {{0, 1, 2}, {2, 0}, {1}, {0, 1, 2}};
          int[] length = {prompts[0].length, prompts[1].length, prompts[2].length};
          for (int[] slots : rowSlots) {
            int[] tokens = new int[slots.length];
            int[] positions = new int[slots.length];
            for (int r = 0; r < slots.length; r++) {
              tokens[r] = next[slots[r]] + cacheRound;
              positions[r] = length[slots[r]]++;
            }
            float[] decoded = backend.download(model.decode(tokens, slots, positions, cache));
            // forward rewrites the same cache rows with the same keys and values.
            float[] forward = backend.download(model.forward(tokens, slots, positions, cache, false));
            assertArrayEquals(forward, decoded, "cache " + cacheRound + ", slots " + Arrays.toString(slots));
          }
        }
      }
    }
  }

  @Test
  void aPrefillOfSeveralPromptsGivesWhatEachGivesAlone() {
    Golden golden = Golden.of("a");
    try (CpuBackend backend = new CpuBackend();
        ModelDirectory dir = ModelDirectory.open(Golden.modelDir("a"));
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir));
        KvCache together = model.newCache(3, 64);
        KvCache alone = model.newCache(3, 64)) {
      int vocab = model.spec().vocabSize();
      List<int[]> prompts = List.of(golden.ints("p0.ids"), new int[] {42}, golden.ints("p2.ids"));
      int[] slots = {2, 0, 1};
      float[] all = backend.download(model.prefill(prompts, slots, together));
      assertTrue(all.length == 3 * vocab, "one row of logits per prompt");
      for (int i = 0; i < prompts.size(); i++) {
        float[] one = backend.download(model.prefill(prompts.get(i), alone, slots[i], 0));
        assertClose(Arrays.copyOfRange(all, i * vocab, (i + 1) * vocab), one, MATMUL_ORDER, "prompt " + i);
      }
      // The caches agree too: a decode step over every slot reads what each prefill stored.
      int[] tokens = {5, 6, 7};
      int[] positions = {prompts.get(1).length, prompts.get(2).length, prompts.get(0).length};
      float[] afterTogether = backend.download(model.forward(tokens, new int[] {0, 1, 2}, positions, together, false));
      float[] afterAlone = backend.download(model.forward(tokens, new int[] {0, 1, 2}, positions, alone, false));
      assertClose(afterTogether, afterAlone, MATMUL_ORDER, "a decode step after the prefills");
    }
  }
}
