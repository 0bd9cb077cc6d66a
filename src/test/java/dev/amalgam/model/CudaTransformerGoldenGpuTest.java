package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole model on the CUDA backend (bf16 weights, float32 activations) against transformers' float32
 * outputs: prompt logits within a relative L2 error of {@link #LOGITS_BOUND}, and greedy tokens agreeing for at
 * least as many leading tokens as transformers' own bf16 run does ({@code *.bf16_agrees_first_n}).
 */
@Tag("gpu")
class CudaTransformerGoldenGpuTest {
  /**
   * The CUDA path rounds every matmul input to bf16 (cuBLAS and gemv multiply bf16 by bf16), which the float32
   * goldens do not. A numpy emulation of exactly this path (bf16 weights, float32 activations, matmul inputs
   * rounded to bf16) gives 3.3e-3 for model a, 6.1e-3 for merged and 2.1e-2 for model b on prompt p3, where the
   * q/k/v input rounding alone gives 2.0e-2. So 1e-2 would fail a correct backend; 5e-2 leaves room over the
   * worst expected error while a wrong kernel (errors of order 1) still fails, and the greedy agreement below
   * checks what the rounding may change.
   */
  private static final double LOGITS_BOUND = 5e-2;

  private static CudaBackend backend;
  private static JsonNode goldenJson;

  @BeforeAll
  static void start() throws Exception {
    backend = CudaBackend.open(0);
    goldenJson = Fixtures.generationGolden();
  }

  @AfterAll
  static void stop() {
    if (backend != null) {
      backend.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "merged"})
  void promptLogitsMatchWithinRelativeL2(String name) {
    double worst = Golden.of(name).worstPromptLogitsError(backend);
    System.out.printf("cuda %s: max relative L2 error of prompt logits %.3g%n", name, worst);
    assertTrue(worst < LOGITS_BOUND, name + ": relative L2 error " + worst);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "b", "merged"})
  void greedyTokensAgreeAtLeastAsLongAsTransformersBf16(String name) {
    Golden golden = Golden.of(name);
    int[][] tokens = golden.greedyTokens(backend);
    for (int p = 0; p < Golden.PROMPTS; p++) {
      int[] expected = golden.ints("p" + p + ".greedy");
      int required = goldenJson.get(name + ".p" + p + ".bf16_agrees_first_n").asInt();
      int agree = 0;
      while (agree < Math.min(expected.length, tokens[p].length) && expected[agree] == tokens[p][agree]) {
        agree++;
      }
      System.out.printf("cuda %s p%d: %d of %d greedy tokens agree (transformers bf16: %d)%n", name, p, agree,
          expected.length, required);
      assertTrue(agree >= required, name + " p" + p + ": " + agree + " leading tokens agree, transformers' bf16 run "
          + required);
    }
  }
}
