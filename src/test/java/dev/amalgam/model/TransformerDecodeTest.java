package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.io.ModelDirectory;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Transformer#decode}, recorded once per row count and bound to one cache, against
 * {@link Transformer#forward} on the same rows: the same logits while the row count shrinks and grows again
 * (a step recorded earlier must read the inputs written now) and after a switch to another cache.
 */
class TransformerDecodeTest {

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
}
