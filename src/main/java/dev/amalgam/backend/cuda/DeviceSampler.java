package dev.amalgam.backend.cuda;

import dev.amalgam.backend.NonFiniteLogitsException;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceScratch;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.PinnedBuffer;
import dev.amalgam.cuda.PinnedScratch;
import java.nio.ByteBuffer;

/**
 * {@link dev.amalgam.backend.Backend#sample} on the GPU with {@code sample_rows} (sample.cu): per call, the
 * uniforms, the history offsets and (only with a repetition penalty) the history ids go up in one copy,
 * and two ints per row come back: the id, and whether the row's logits were finite. The logits never leave the
 * device.
 */
final class DeviceSampler implements AutoCloseable {
  private final CudaStream stream;
  private final KernelLauncher launcher;
  private final DeviceScratch inputs;
  private final DeviceScratch work;
  private final DeviceScratch probabilities;
  private final DeviceScratch chosen;
  private final PinnedScratch host = new PinnedScratch();

  DeviceSampler(CudaStream stream, KernelLauncher launcher) {
    this.stream = stream;
    this.launcher = launcher;
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
    // followed by room for what comes back: [ids: rows ints][non-finite flags: rows ints].
    long offsetsAt = 8L * rows;
    long historyAt = offsetsAt + 4L * (rows + 1);
    long inputBytes = historyAt + 4L * historyCount;
    long idsAt = (inputBytes + 7) / 8 * 8;
    PinnedBuffer pinned = host.atLeast(idsAt + 8L * rows);
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
    long ids = chosen.atLeast(8L * rows);
    stream.copyToDevice(deviceInputs, pinned.at(0), inputBytes);
    SampleKernels.sampleRows(launcher, logits, new SampleKernels.Buffers(workAddress, probsAddress, ids,
        ids + 4L * rows, deviceInputs + historyAt, deviceInputs + offsetsAt, deviceInputs), rows, vocab, params);
    stream.copyToHost(pinned.at(idsAt), ids, 8L * rows);
    stream.synchronize();
    int[] result = new int[rows];
    for (int r = 0; r < rows; r++) {
      if (staging.getInt(Math.toIntExact(idsAt + 4L * (rows + r))) != 0) {
        throw new NonFiniteLogitsException(r);
      }
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
