package dev.amalgam.backend.cuda;

import dev.amalgam.backend.SamplingParams;
import java.nio.ByteBuffer;

/**
 * {@link dev.amalgam.backend.Backend#sample} on the GPU with {@code sample_rows} (sample.cu): per call, the
 * uniforms, the history offsets and (only with a repetition penalty) the history ids go up in one copy,
 * and one int per row comes back. The logits never leave the device.
 */
final class DeviceSampler implements AutoCloseable {
  private final CudaStream stream;
  private final CudaKernel kernel;
  private final DeviceScratch inputs;
  private final DeviceScratch work;
  private final DeviceScratch probabilities;
  private final DeviceScratch chosen;
  private final PinnedScratch host = new PinnedScratch();

  DeviceSampler(CudaStream stream, GenerationKernels kernels) {
    this.stream = stream;
    this.kernel = kernels.get("sample_rows");
    this.inputs = new DeviceScratch(stream);
    this.work = new DeviceScratch(stream);
    this.probabilities = new DeviceScratch(stream);
    this.chosen = new DeviceScratch(stream);
  }

  /** Waits for the work before it (the logits), samples, and returns one id per row. */
  int[] sample(long logits, int rows, int vocab, SamplingParams params, int[][] history, double[] uniforms) {
    if (history.length != rows || uniforms.length != rows) {
      throw new IllegalArgumentException(rows + " rows, " + history.length + " histories, " + uniforms.length + " uniforms");
    }
    boolean penalized = params.repetitionPenalty() != 1f;
    long historyCount = 0;
    if (penalized) {
      for (int[] h : history) {
        historyCount += h.length;
      }
    }
    // One pinned block, copied up at once: [uniforms: rows doubles][offsets: rows + 1 ints][history ints],
    // followed by room for the ids that come back.
    long offsetsAt = 8L * rows;
    long historyAt = offsetsAt + 4L * (rows + 1);
    long inputBytes = historyAt + 4L * historyCount;
    long idsAt = (inputBytes + 7) / 8 * 8;
    PinnedBuffer pinned = host.atLeast(idsAt + 4L * rows);
    ByteBuffer staging = pinned.buffer();
    int offset = 0;
    for (int r = 0; r < rows; r++) {
      staging.putDouble(8 * r, uniforms[r]);
      staging.putInt(Math.toIntExact(offsetsAt + 4L * r), offset);
      if (penalized) {
        for (int id : history[r]) {
          staging.putInt(Math.toIntExact(historyAt + 4L * offset), id);
          offset++;
        }
      }
    }
    staging.putInt(Math.toIntExact(offsetsAt + 4L * rows), offset);

    long deviceInputs = inputs.atLeast(inputBytes);
    long elements = (long) rows * vocab;
    long workAddress = work.atLeast(4 * elements);
    // Greedy sampling never touches the probabilities, so it needs no room for them.
    long probsAddress = params.greedy() ? workAddress : probabilities.atLeast(8 * elements);
    long ids = chosen.atLeast(4L * rows);
    stream.copyToDevice(deviceInputs, pinned.at(0), inputBytes);
    int topK = params.topK() < vocab ? params.topK() : 0;
    kernel.launch(stream, rows, 1, 1, GenerationKernels.SAMPLE_THREADS,
        logits, workAddress, probsAddress, ids, deviceInputs + historyAt, deviceInputs + offsetsAt, deviceInputs,
        vocab, params.temperature(), topK, params.topP(), params.minP(), params.repetitionPenalty());
    stream.copyToHost(pinned.at(idsAt), ids, 4L * rows);
    stream.synchronize();
    int[] result = new int[rows];
    for (int r = 0; r < rows; r++) {
      result[r] = staging.getInt(Math.toIntExact(idsAt + 4L * r));
    }
    return result;
  }

  @Override
  public void close() {
    inputs.close();
    work.close();
    probabilities.close();
    chosen.close();
    host.close();
  }
}
