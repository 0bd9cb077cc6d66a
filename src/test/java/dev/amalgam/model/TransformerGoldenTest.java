package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.cpu.CpuBackend;
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
    int[][] tokens = golden.greedyTokens(backend);
    for (int p = 0; p < Golden.PROMPTS; p++) {
      assertArrayEquals(golden.ints("p" + p + ".greedy"), tokens[p], name + " prompt " + p);
    }
  }
}
