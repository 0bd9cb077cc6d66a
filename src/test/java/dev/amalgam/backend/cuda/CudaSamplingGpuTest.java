package dev.amalgam.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.Sampler;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CudaBackend#sample} against {@link Sampler}, the reference: the same logits and uniforms must give
 * the same ids, row by row, for every sampling step alone and all together, at the tiny models' vocabulary
 * and at Qwen's. The logits are drawn so that ties and repeated history ids occur.
 */
class CudaSamplingGpuTest extends GpuBackendTest {
  static Stream<Arguments> cases() {
    List<SamplingParams> params = List.of(
        SamplingParams.GREEDY,
        new SamplingParams(0f, 0, 1f, 0f, 1.3f),
        new SamplingParams(1f, 0, 1f, 0f, 1f),
        new SamplingParams(0.7f, 40, 1f, 0f, 1f),
        new SamplingParams(0.8f, 0, 0.9f, 0f, 1f),
        new SamplingParams(1.2f, 0, 1f, 0.05f, 1f),
        new SamplingParams(0.6f, 50, 0.95f, 0.02f, 1.15f),
        new SamplingParams(1.5f, 3, 0.5f, 0f, 0.8f));
    List<Arguments> cases = new ArrayList<>();
    for (int vocab : new int[] {465, 151936}) {
      for (SamplingParams p : params) {
        cases.add(Arguments.of(vocab, p));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "vocab {0}, {1}")
  @MethodSource("cases")
  void picksTheReferenceIdsForTheSameUniforms(int vocab, SamplingParams params) {
    Random random = new Random(vocab * 31L + params.hashCode());
    int rows = 4;
    int draws = vocab > 10_000 ? 6 : 40;
    float[] logits = new float[rows * vocab];
    for (int i = 0; i < logits.length; i++) {
      // Quantized to 1/8 so that equal logits (ties for arg-max, top-k and top-p) are common.
      logits[i] = Math.round(random.nextGaussian() * 3 * 8) / 8f;
    }
    int[][] history = new int[rows][];
    for (int r = 0; r < rows; r++) {
      history[r] = new int[5 + r * 7];
      for (int i = 0; i < history[r].length; i++) {
        history[r][i] = random.nextInt(Math.min(vocab, 60)); // repeats: each distinct id is penalized once
      }
    }
    try (Tensor t = backend.uploadFloats(logits, rows, vocab)) {
      for (int d = 0; d < draws; d++) {
        double[] uniforms = new double[rows];
        int[] expected = new int[rows];
        for (int r = 0; r < rows; r++) {
          uniforms[r] = random.nextDouble();
          float[] row = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
          expected[r] = Sampler.pick(row, params, history[r], uniforms[r]);
        }
        int[] actual = backend.sample(t, params, history, uniforms);
        assertEquals(Arrays.toString(expected), Arrays.toString(actual), "draw " + d);
      }
      // Sampling must not change the logits it reads.
      assertEquals(Arrays.toString(logits), Arrays.toString(backend.download(t)));
    }
  }

  @Test
  void neverEmitsTokensTheFiltersExclude() {
    Random random = new Random(5);
    int vocab = 2000;
    float[] logits = CudaBackendOpsGpuTest.random(random, vocab, 2f);
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float fifthLargest = sorted[vocab - 5];
    SamplingParams topFive = new SamplingParams(5f, 5, 1f, 0f, 1f); // hot: without top-k anything could come
    try (Tensor t = backend.uploadFloats(logits, 1, vocab)) {
      boolean[] seen = new boolean[vocab];
      for (int d = 0; d < 300; d++) {
        int id = backend.sample(t, topFive, new int[][] {{}}, new double[] {random.nextDouble()})[0];
        assertTrue(logits[id] >= fifthLargest, "token " + id + " is outside the top 5");
        seen[id] = true;
      }
      int distinct = 0;
      for (boolean s : seen) {
        distinct += s ? 1 : 0;
      }
      assertTrue(distinct > 1, "300 hot draws from 5 tokens gave " + distinct + " distinct ids");
    }
  }
}
