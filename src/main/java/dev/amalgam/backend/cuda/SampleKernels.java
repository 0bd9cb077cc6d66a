package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.FLOAT;
import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.backend.SamplingParams;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LaunchGrid;
import java.util.List;

/** The typed launcher of sample.cu: one block of {@link #THREADS} per row of logits. */
public final class SampleKernels {
  static final String FILE = "sample.cu";
  /** Threads per block ({@code SAMPLE_THREADS}). */
  static final int THREADS = 1024;
  static final KernelSignature SAMPLE_ROWS = KernelSignature.of(FILE, "sample_rows", POINTER, POINTER, POINTER,
      POINTER, POINTER, POINTER, POINTER, POINTER, INT, FLOAT, INT, FLOAT, FLOAT, FLOAT);
  static final List<KernelSignature> SIGNATURES = List.of(SAMPLE_ROWS);

  /**
   * Where {@link #sampleRows} reads and writes: float32 {@code work} and, unless greedy, float64
   * {@code probabilities}, both [rows, vocab]; one int per row of {@code ids} and of {@code nonfinite} (1 for a
   * row with a NaN or infinite logit); {@code history} with its rows + 1 {@code historyOffsets}, and one
   * double of {@code uniforms} per row.
   */
  public record Buffers(long work, long probabilities, long ids, long nonfinite, long history, long historyOffsets,
      long uniforms) {}

  private SampleKernels() {}

  /** One id per row of logits [rows, vocab], as {@code dev.amalgam.backend.Sampler} picks it. */
  public static void sampleRows(KernelLauncher k, long logits, Buffers b, int rows, int vocab, SamplingParams p) {
    int topK = p.topK() < vocab ? p.topK() : 0;
    k.launch(SAMPLE_ROWS, LaunchGrid.of(rows, THREADS), logits, b.work(), b.probabilities(), b.ids(), b.nonfinite(),
        b.history(), b.historyOffsets(), b.uniforms(), vocab, p.temperature(), topK, p.topP(), p.minP(),
        p.repetitionPenalty());
  }
}
