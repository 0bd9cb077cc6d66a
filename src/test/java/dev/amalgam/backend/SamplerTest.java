package dev.amalgam.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
  // probabilities at temperature 1: about 0.47, 0.26, 0.17, 0.06, 0.03, 0.01
  private static final float[] LOGITS = {2.0f, 1.4f, 1.0f, 0f, -0.7f, -1.5f};
  private static final int DRAWS = 20_000;

  private static Set<Integer> drawn(SamplingParams params, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < DRAWS; i++) {
      seen.add(Sampler.pick(LOGITS.clone(), params, new int[0], random.nextDouble()));
    }
    return seen;
  }

  @Test
  void plainSamplingReachesEveryToken() {
    assertEquals(Set.of(0, 1, 2, 3, 4, 5), drawn(new SamplingParams(1f, 0, 1f, 0f, 1f), 1));
  }

  @Test
  void topKNeverEmitsTokensOutsideTheK() {
    assertEquals(Set.of(0, 1, 2), drawn(new SamplingParams(1f, 3, 1f, 0f, 1f), 2));
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    // 0.47 < 0.6, 0.47 + 0.26 >= 0.6: tokens 0 and 1 only.
    assertEquals(Set.of(0, 1), drawn(new SamplingParams(1f, 0, 0.6f, 0f, 1f), 3));
  }

  @Test
  void minPDropsTokensBelowAFractionOfTheTop() {
    // threshold 0.3 * 0.47 = 0.14: tokens 0, 1, 2 (0.17) stay, 3 (0.06) goes.
    assertEquals(Set.of(0, 1, 2), drawn(new SamplingParams(1f, 0, 1f, 0.3f, 1f), 4));
  }

  @Test
  void greedyIsArgmaxWithLowestIdOnTies() {
    assertEquals(1, Sampler.pick(new float[] {1f, 3f, 3f, -2f}, SamplingParams.GREEDY, new int[0], 0.99));
  }

  @Test
  void sameSeedSameTokensDifferentSeedDifferentTokens() {
    SamplingParams params = new SamplingParams(1.2f, 0, 0.95f, 0f, 1f);
    assertEquals(sequence(params, 42), sequence(params, 42));
    assertTrue(!sequence(params, 42).equals(sequence(params, 43)));
  }

  private static String sequence(SamplingParams params, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      s.append(Sampler.pick(LOGITS.clone(), params, new int[0], random.nextDouble()));
    }
    return s.toString();
  }

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerToken() {
    float[] logits = {2f, -1f, 3f, 0.5f};
    Sampler.applyRepetitionPenalty(logits, new int[] {0, 1, 1, 0}, 2f);
    assertEquals(1f, logits[0]);
    assertEquals(-2f, logits[1]);
    assertEquals(3f, logits[2]);
    assertEquals(0.5f, logits[3]);
  }

  @Test
  void repetitionPenaltyCanChangeTheGreedyChoice() {
    float[] logits = {2f, 1.5f};
    assertEquals(1, Sampler.pick(logits, new SamplingParams(0f, 0, 1f, 0f, 2f), new int[] {0}, 0));
  }

  @Test
  void lowTemperatureConcentratesOnTheTopToken() {
    assertEquals(Set.of(0), drawn(new SamplingParams(0.01f, 0, 1f, 0f, 1f), 5));
  }

  @Test
  void invalidParametersAreUserErrors() {
    assertThrows(UserError.class, () -> new SamplingParams(-1f, 0, 1f, 0f, 1f));
    assertThrows(UserError.class, () -> new SamplingParams(1f, -1, 1f, 0f, 1f));
    assertThrows(UserError.class, () -> new SamplingParams(1f, 0, 0f, 0f, 1f));
    assertThrows(UserError.class, () -> new SamplingParams(1f, 0, 1f, 1f, 1f));
    assertThrows(UserError.class, () -> new SamplingParams(1f, 0, 1f, 0f, 0f));
  }
}
