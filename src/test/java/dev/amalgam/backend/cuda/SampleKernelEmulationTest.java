package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.LittleEndian.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.backend.Sampler;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.cuda.EmulatedGpu;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * sample.cu executed on the CPU through its launcher (see {@link EmulatedGpu}): the same ids as {@link Sampler}
 * for the same uniforms, and ids inside the vocabulary whatever the logits.
 */
class SampleKernelEmulationTest {
  private static final int ROWS = 3;
  private static final int VOCAB = 2500;  // over the block: each thread owns several ids

  @TempDir Path dir;

  static SamplingParams[] params() {
    return new SamplingParams[] {
        new SamplingParams(0f, 0, 1f, 0f, 1.3f),  // greedy, after a penalty
        new SamplingParams(0.8f, 40, 0.9f, 0.05f, 1.1f),  // every filter
        new SamplingParams(1.2f, 0, 0.6f, 0f, 1f),  // top-p alone
        new SamplingParams(1f, 0, 1f, 0f, 1f)};  // a plain draw
  }

  @ParameterizedTest
  @MethodSource("params")
  void picksTheReferenceSamplersIds(SamplingParams params) {
    Random random = new Random(19);
    float[] logits = new float[ROWS * VOCAB];
    for (int i = 0; i < logits.length; i++) {
      // Quantized, so ties at the top-k threshold, the top-p threshold and the arg-max all occur.
      logits[i] = Math.round(random.nextGaussian() * 8) / 4f;
    }
    int[] offsets = new int[ROWS + 1];
    int[] history = new int[ROWS * 12];
    for (int row = 0; row < ROWS; row++) {
      offsets[row + 1] = offsets[row] + 3 * row;  // row 0 has no history; repeated ids occur
      for (int h = offsets[row]; h < offsets[row + 1]; h++) {
        history[h] = random.nextInt(VOCAB / 50);
      }
    }
    double[] uniforms = new double[ROWS];
    int[] expected = new int[ROWS];
    for (int row = 0; row < ROWS; row++) {
      uniforms[row] = row == ROWS - 1 ? 0.9999999 : random.nextDouble();
      expected[row] = Sampler.pick(Arrays.copyOfRange(logits, row * VOCAB, (row + 1) * VOCAB), params,
          Arrays.copyOfRange(history, offsets[row], offsets[row + 1]), uniforms[row]);
    }

    Sampled sampled = sample(logits, params, history, offsets, uniforms);
    assertArrayEquals(expected, sampled.ids, "ids for " + params);
    assertArrayEquals(new int[ROWS], sampled.nonfinite, "no row is flagged");
    assertArrayEquals(bytes(logits), sampled.gpu.bytes(sampled.logits), "sample_rows wrote the logits");
  }

  @Test
  void nonFiniteLogitsAreFlaggedAndStillGiveAnIdInTheVocabulary() {
    float[] logits = new float[ROWS * VOCAB];
    Arrays.fill(logits, 0, VOCAB, Float.NaN);  // every logit NaN: no token has p > 0
    logits[VOCAB + 7] = Float.POSITIVE_INFINITY;
    logits[2 * VOCAB + 11] = 3f;  // a finite row
    Sampled sampled = sample(logits, new SamplingParams(0.7f, 0, 1f, 0f, 1f), new int[1], new int[ROWS + 1],
        new double[] {0.5, 0.5, 0.5});
    assertArrayEquals(new int[] {1, 1, 0}, sampled.nonfinite, "rows with NaN or infinite logits are flagged");
    for (int id : sampled.ids) {
      assertTrue(id >= 0 && id < VOCAB, "id " + id + " is outside the vocabulary");
    }
  }

  private record Sampled(EmulatedGpu gpu, long logits, int[] ids, int[] nonfinite) {}

  private Sampled sample(float[] logits, SamplingParams params, int[] history, int[] offsets, double[] uniforms) {
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    long in = gpu.upload(logits);
    SampleKernels.Buffers buffers = new SampleKernels.Buffers(gpu.poisoned(4L * ROWS * VOCAB),
        gpu.poisoned(8L * ROWS * VOCAB), gpu.poisoned(4L * ROWS), gpu.poisoned(4L * ROWS), gpu.upload(history),
        gpu.upload(offsets), gpu.upload(uniforms));
    SampleKernels.sampleRows(gpu, in, buffers, ROWS, VOCAB, params);
    return new Sampled(gpu, in, gpu.ints(buffers.ids(), ROWS), gpu.ints(buffers.nonfinite(), ROWS));
  }
}
