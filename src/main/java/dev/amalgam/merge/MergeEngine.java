package dev.amalgam.merge;

import java.nio.ByteBuffer;
import java.util.List;

/** Computes planned tensors on one device and hands each finished tensor to an output. */
public interface MergeEngine extends AutoCloseable {

  /** Where the arithmetic runs, as shown to users: {@code cpu} or {@code cuda:0 (NVIDIA H100 ...)}. */
  String device();

  /**
   * Merges every tensor. {@code inputs} maps input byte ranges. {@code output} receives each tensor in
   * chunks, possibly from several threads and in any order; all of a tensor's chunks arrive before
   * {@code progress} hears that it is done.
   */
  void run(List<PlannedTensor> tensors, TensorSource inputs, MergeOutput output, MergeProgress progress);

  @Override
  default void close() {}

  /** Maps an input tensor's bytes (read-only, little-endian). */
  interface TensorSource {
    ByteBuffer map(dev.amalgam.io.TensorInfo tensor);
  }

  /**
   * Receives merged tensors chunk by chunk, so memory stays flat whatever the tensor size: {@code bytes}
   * (little-endian, the tensor's output dtype) belong at {@code byteOffset} in the tensor and are valid only
   * during the call.
   */
  interface MergeOutput {
    void accept(PlannedTensor tensor, long byteOffset, ByteBuffer bytes);
  }

  /** Told after each tensor is written, for progress display. */
  interface MergeProgress {
    MergeProgress NONE = (tensor) -> {};

    void tensorDone(PlannedTensor tensor);
  }
}
