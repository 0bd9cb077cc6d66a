package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.cuda.GenerationKernels;
import dev.amalgam.backend.Sampler;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** sample.cu executed on the CPU (see {@link KernelEmulator}): the same ids as {@link Sampler} for the same uniforms. */
class SampleKernelEmulationTest {
  // DeviceSampler: one block of SAMPLE_THREADS per row. The real block size, since the kernel's reductions
  // and scans assume it; a vocabulary over it makes each thread own several ids.
  private static final int THREADS = GenerationKernels.SAMPLE_THREADS;
  private static final int ROWS = 3;
  private static final int VOCAB = 2500;

  @TempDir static Path dir;
  private static KernelEmulator sample;

  @BeforeAll
  static void compile() throws Exception {
    sample = KernelEmulator.compile("sample.cu", dir);
  }

  static SamplingParams[] params() {
    return new SamplingParams[] {
        new SamplingParams(0f, 0, 1f, 0f, 1.3f),  // greedy, after a penalty
        new SamplingParams(0.8f, 40, 0.9f, 0.05f, 1.1f),  // every filter
        new SamplingParams(1.2f, 0, 0.6f, 0f, 1f),  // top-p alone
        new SamplingParams(1f, 0, 1f, 0f, 1f)};  // a plain draw
  }

  @ParameterizedTest
  @MethodSource("params")
  void picksTheReferenceSamplersIds(SamplingParams params) throws Exception {
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

    KernelEmulator.Launch launch = sample.launch("sample_rows", ROWS, 1, 1, THREADS);
    int in = launch.buffer(bytes(logits));
    int work = launch.poisoned(4 * ROWS * VOCAB);
    int probs = launch.poisoned(8 * ROWS * VOCAB);
    int ids = launch.poisoned(4 * ROWS);
    int h = launch.buffer(bytes(history));
    int o = launch.buffer(bytes(offsets));
    int u = launch.buffer(bytes(uniforms));
    KernelEmulator.Result result = launch.pointer(in).pointer(work).pointer(probs).pointer(ids).pointer(h)
        .pointer(o).pointer(u).i32(VOCAB).f32(params.temperature()).i32(params.topK()).f32(params.topP())
        .f32(params.minP()).f32(params.repetitionPenalty()).run();
    assertArrayEquals(expected, result.ints(ids), "ids for " + params);
    assertArrayEquals(bytes(logits), result.bytes(in), "sample_rows wrote the logits");
  }
}
