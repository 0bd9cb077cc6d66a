package dev.amalgam.backend.cpu;

import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.OpReference;
import dev.amalgam.backend.Tensor;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import dev.amalgam.testing.Fixtures;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
  /** A batched decode step over two slots must equal decoding each sequence on its own. */
  @Test
  void batchedDecodeOverSlotsMatchesSingleSequences() {
    int[] first = {5, 17, 300};
    int[] second = {42, 9, 120, 7, 61};
    try (CpuBackend backend = new CpuBackend(); ModelDirectory dir = ModelDirectory.open(Fixtures.B);
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir));
        KvCache batch = model.newCache(2, 8); KvCache single = model.newCache(1, 8)) {
      model.prefill(first, batch, 0, 0);
      model.prefill(second, batch, 1, 0);
      float[] both = backend.download(model.forward(new int[] {11, 12}, new int[] {0, 1},
          new int[] {first.length, second.length}, batch, false));
      int vocab = model.spec().vocabSize();

      model.prefill(first, single, 0, 0);
      float[] alone0 = backend.download(model.forward(new int[] {11}, new int[] {0}, new int[] {first.length}, single, true));
      model.prefill(second, single, 0, 0);
      float[] alone1 = backend.download(model.forward(new int[] {12}, new int[] {0}, new int[] {second.length}, single, true));

      assertArrayEquals(alone0, Arrays.copyOfRange(both, 0, vocab), 1e-4f);
      assertArrayEquals(alone1, Arrays.copyOfRange(both, vocab, 2 * vocab), 1e-4f);
    }
  }

  /** RoPE reuses its angles between calls, so they must follow positions rewritten in the same tensor. */
  @Test
  void ropeFollowsPositionsRewrittenInPlace() {
    int headDim = 4;
    float[] invFreq = {1f, 0.01f};
    float[] values = {1, 2, 3, 4, 5, 6, 7, 8, -1, 0.5f, 2, -3, 0.25f, 1, -2, 4};
    try (CpuBackend backend = new CpuBackend()) {
      Tensor freq = backend.uploadFloats(invFreq, 2);
      Tensor positions = backend.allocateInts(2);
      Tensor x = backend.allocate(2, 2 * headDim);
      for (int[] pos : new int[][] {{0, 1}, {3, 7}}) {
        backend.writeInts(positions, pos);
        backend.copyRows(backend.uploadFloats(values, 2, 2 * headDim), 0, x, 0, 2);
        backend.rope(x, positions, freq, headDim);
        assertClose(backend.download(x), OpReference.rope(values, pos, invFreq, headDim), 1e-6, "rope at " + pos[1]);
      }
    }
  }
}
