package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.Generator;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.generate.TokenText;
import dev.amalgam.io.ModelDirectory;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CPU float32 path against transformers' float32 outputs on the tiny Qwen2 models. */
class TransformerGoldenTest {

  private static CpuBackend backend;

  @BeforeAll
  static void start() {
    long ms = CpuBackend.loadNatives();
    System.out.println("libtorch load: " + ms + " ms");
    backend = new CpuBackend();
  }

  @AfterAll
  static void stop() {
    backend.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "merged"})
  void promptLogitsMatchWithinRelativeL2(String name) {
    double worst = Golden.of(name).worstPromptLogitsError(backend);
    System.out.printf("%s: max relative L2 error of prompt logits %.3g%n", name, worst);
    assertTrue(worst < 1e-4, name + ": relative L2 error " + worst);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "merged"})
  void greedyTokensMatchExactly(String name) {
    Golden golden = Golden.of(name);
    try (ModelDirectory dir = ModelDirectory.open(Golden.modelDir(name));
        Transformer model = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      Generator generator = new Generator(model, Set.copyOf(dir.config().eosTokenIds()));
      for (int p = 0; p < Golden.PROMPTS; p++) {
        int[] expected = golden.ints("p" + p + ".greedy");
        GenerationResult result = generator.generate(golden.ints("p" + p + ".ids"),
            GenerationSettings.greedy(expected.length), TokenText.NONE, TokenListener.NONE);
        assertArrayEquals(expected, result.tokens(), name + " prompt " + p);
      }
    }
  }
}
