package dev.amalgam.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CpuBackendTest {
  /** A batched decode step over two slots must equal decoding each sequence on its own. */
  @Test
  void batchedDecodeOverSlotsMatchesSingleSequences() {
    int[] first = {5, 17, 300};
    int[] second = {42, 9, 120, 7, 61};
    try (CpuBackend backend = new CpuBackend(); ModelDirectory dir = ModelDirectory.open(Path.of("examples", "qwen2-tiny-b"));
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
}
