package dev.amalgam.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationResult.FinishReason;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import dev.amalgam.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeneratorTest {
  private static final int[] PROMPT = {5, 17, 300, 42};
  private static CpuBackend backend;
  private static ModelDirectory dir;
  private static Transformer model;

  @BeforeAll
  static void load() {
    backend = new CpuBackend();
    dir = ModelDirectory.open(Fixtures.A);
    model = Transformer.load(backend, dir.config(), WeightSource.of(dir));
  }

  @AfterAll
  static void close() {
    model.close();
    dir.close();
    backend.close();
  }

  private static GenerationResult run(GenerationSettings settings, Set<Integer> eos) {
    return new Generator(model, eos).generate(PROMPT, settings, new IdText(), TokenListener.NONE);
  }

  @Test
  void sameSeedSameTokens() {
    GenerationSettings settings = new GenerationSettings(24, new SamplingParams(1f, 40, 0.95f, 0f, 1.1f), 7,
        List.of(), 0);
    GenerationResult first = run(settings, Set.of());
    assertArrayEquals(first.tokens(), run(settings, Set.of()).tokens());
    assertEquals(FinishReason.MAX_TOKENS, first.finishReason());
    assertEquals(24, first.tokens().length);
  }

  @Test
  void stopsAtAnEosIdWithoutEmittingIt() {
    int[] greedy = run(GenerationSettings.greedy(10), Set.of()).tokens();
    GenerationResult result = run(GenerationSettings.greedy(10), Set.of(greedy[3], 99999));
    assertEquals(FinishReason.EOS, result.finishReason());
    assertArrayEquals(java.util.Arrays.copyOf(greedy, indexOf(greedy, greedy[3])), result.tokens());
  }

  @Test
  void stopStringEndsGenerationAndIsNotStreamed() {
    int[] greedy = run(GenerationSettings.greedy(10), Set.of()).tokens();
    String stop = "<" + greedy[4] + ">";
    List<String> streamed = new ArrayList<>();
    TokenListener listener = new TokenListener() {
      @Override
      public void onToken(int id, String text) {
        streamed.add(text);
      }

      @Override
      public void onEnd(String remainingText) {
        streamed.add(remainingText);
      }
    };
    GenerationResult result = new Generator(model, Set.of()).generate(PROMPT,
        new GenerationSettings(10, SamplingParams.GREEDY, 0, List.of(stop), 0), new IdText(), listener);
    assertEquals(FinishReason.STOP, result.finishReason());
    assertTrue(!result.text().contains(stop) && !String.join("", streamed).contains(stop), result.text());
    assertEquals(String.join("", streamed), result.text());
  }

  @Test
  void contextLimitEndsGeneration() {
    GenerationResult result = run(new GenerationSettings(100, SamplingParams.GREEDY, 0, List.of(), 10), Set.of());
    assertEquals(FinishReason.CONTEXT, result.finishReason());
    assertEquals(6, result.tokens().length);
  }

  @Test
  void promptOverTheContextIsAUserError() {
    GenerationSettings settings = new GenerationSettings(5, SamplingParams.GREEDY, 0, List.of(), 4);
    String message = assertThrows(UserError.class, () -> run(settings, Set.of())).getMessage();
    assertTrue(message.contains("4 tokens") && message.contains("context"), message);
  }

  @Test
  void contextOverTheModelLimitIsAUserError() {
    GenerationSettings settings = new GenerationSettings(5, SamplingParams.GREEDY, 0, List.of(), 5000);
    assertThrows(UserError.class, () -> run(settings, Set.of()));
  }

  private static int indexOf(int[] values, int value) {
    for (int i = 0; i < values.length; i++) {
      if (values[i] == value) {
        return i;
      }
    }
    return -1;
  }
}
