package dev.amalgam.merge;

import static org.bytedeco.cuda.global.cudart.CUDA_ERROR_OUT_OF_MEMORY;

import dev.amalgam.cuda.CudaException;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.io.TensorInfo;
import java.util.List;

/**
 * A whole tensor's inputs in device memory, one after another, each on a 256-byte boundary: uploaded once, then
 * read by the statistics passes and by the element op, so a tensor with statistics crosses the bus once. For DELLA,
 * room for each input's keep bits too (a bit per element), which its statistics draw and its element op reads.
 */
final class ResidentInputs implements AutoCloseable {
  private static final long ALIGNMENT = 256;

  private final DeviceBuffer buffer;
  private final List<TensorInfo> inputs;
  private final long[] addresses;
  private final long[] keepBits;

  private ResidentInputs(DeviceBuffer buffer, List<TensorInfo> inputs, long[] addresses, long[] keepBits) {
    this.buffer = buffer;
    this.inputs = inputs;
    this.addresses = addresses;
    this.keepBits = keepBits;
  }

  /** Device bytes that {@code tensor}'s inputs (and keep bits) take here. */
  static long bytes(PlannedTensor tensor) {
    long total = 0;
    for (TensorInfo input : tensor.inputs()) {
      total += aligned(tensor.elementCount() * input.dtype().byteSize()) + keepBitBytes(tensor);
    }
    return total;
  }

  /** Bytes of one input's keep bits: 32-bit words for DELLA, whose draws need its ranks; none otherwise. */
  static long keepBitBytes(PlannedTensor tensor) {
    Sparsification sparsification = tensor.sparsification();
    boolean ranked = sparsification != null && sparsification.kind() == Sparsification.Kind.RANKED_RANDOM;
    return ranked ? aligned(KeepMask.wordBytes(tensor.elementCount())) : 0;
  }

  private static long aligned(long bytes) {
    return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /** Device memory for every input of {@code tensor}, or null where the device has no room for it. */
  static ResidentInputs allocate(PlannedTensor tensor) {
    List<TensorInfo> inputs = tensor.inputs();
    long[] offsets = new long[inputs.size()];
    long[] keepBits = new long[inputs.size()];
    long total = 0;
    for (int i = 0; i < inputs.size(); i++) {
      offsets[i] = total;
      total += aligned(tensor.elementCount() * inputs.get(i).dtype().byteSize());
    }
    long keepBitBytes = keepBitBytes(tensor);
    for (int i = 0; i < inputs.size() && keepBitBytes > 0; i++) {
      keepBits[i] = total;
      total += keepBitBytes;
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
      keepBits[i] += keepBitBytes > 0 ? buffer.address() : 0;
    }
    return new ResidentInputs(buffer, inputs, offsets, keepBits);
  }

  /** Per input, the device address of its keep bits (0 for none), for DELLA's statistics and element op. */
  long[] keepBits() {
    return keepBits.clone();
  }

  /** Per input, the address of the keep-bit word of element {@code start}, a multiple of 32 (0 for none). */
  long[] keepBitsAt(long start) {
    if (start % 32 != 0) {
      throw new IllegalArgumentException("keep bits start at multiples of 32 elements, not " + start);
    }
    long[] at = new long[keepBits.length];
    for (int i = 0; i < at.length; i++) {
      at[i] = keepBits[i] == 0 ? 0 : keepBits[i] + start / 32 * Integer.BYTES;
    }
    return at;
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
