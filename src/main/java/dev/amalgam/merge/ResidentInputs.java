package dev.amalgam.merge;

import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_OUT_OF_MEMORY;

import dev.amalgam.cuda.CudaException;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.io.TensorInfo;
import java.util.List;

/**
 * A whole tensor's inputs in device memory, one after another, each on a 256-byte boundary: uploaded once, then
 * read by the statistics passes and by the element op, so a tensor with statistics crosses the bus once.
 */
final class ResidentInputs implements AutoCloseable {
  private static final long ALIGNMENT = 256;

  private final DeviceBuffer buffer;
  private final List<TensorInfo> inputs;
  private final long[] addresses;

  private ResidentInputs(DeviceBuffer buffer, List<TensorInfo> inputs, long[] addresses) {
    this.buffer = buffer;
    this.inputs = inputs;
    this.addresses = addresses;
  }

  /** Device bytes that {@code tensor}'s inputs take here. */
  static long bytes(PlannedTensor tensor) {
    long total = 0;
    for (TensorInfo input : tensor.inputs()) {
      total += aligned(tensor.elementCount() * input.dtype().byteSize());
    }
    return total;
  }

  private static long aligned(long bytes) {
    return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /** Device memory for every input of {@code tensor}, or null where the device has no room for it. */
  static ResidentInputs allocate(PlannedTensor tensor) {
    List<TensorInfo> inputs = tensor.inputs();
    long[] offsets = new long[inputs.size()];
    long total = 0;
    for (int i = 0; i < inputs.size(); i++) {
      offsets[i] = total;
      total += aligned(tensor.elementCount() * inputs.get(i).dtype().byteSize());
    }
    DeviceBuffer buffer;
    try {
      buffer = DeviceBuffer.allocate(total);
    } catch (CudaException e) {
      if (e.code() == CUDA_ERROR_OUT_OF_MEMORY) {
        return null;
      }
      throw e;
    }
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] += buffer.address();
    }
    return new ResidentInputs(buffer, inputs, offsets);
  }

  /** Per input, the device address of its element {@code start}. */
  long[] at(long start) {
    long[] at = new long[addresses.length];
    for (int i = 0; i < at.length; i++) {
      at[i] = addresses[i] + start * inputs.get(i).dtype().byteSize();
    }
    return at;
  }

  @Override
  public void close() {
    buffer.close();
  }
}
