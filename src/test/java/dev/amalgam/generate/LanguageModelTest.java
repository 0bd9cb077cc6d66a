package dev.amalgam.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.model.Golden;
import dev.amalgam.model.WeightSource;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LanguageModelTest {
  /** The seam for merge-then-generate: merged tensors in memory, config and tokenizer from a folder. */
  @Test
  void generatesFromInMemoryWeights() {
    Golden golden = Golden.of("merged");
    try (CpuBackend backend = new CpuBackend();
        LanguageModel model = LanguageModel.fromWeights(backend, Fixtures.A, ModelConfig.read(Fixtures.A.resolve("config.json")),
            WeightSource.of(TestModels.load(Fixtures.MERGED), "the merged weights"))) {
      int[] prompt = model.encode("The smith kept");
      assertArrayEquals(golden.ints("p0.ids"), prompt);
      GenerationResult result = model.generate(prompt, GenerationSettings.greedy(48), TokenListener.NONE);
      assertArrayEquals(golden.ints("p0.greedy"), result.tokens());
    }
  }

  @Test
  void eosIdsComeFromConfigGenerationConfigAndTokenizer() {
    try (CpuBackend backend = new CpuBackend(); LanguageModel model = LanguageModel.open(backend, Fixtures.A)) {
      assertEquals(Set.of(464), model.eosIds());
    }
  }
}
