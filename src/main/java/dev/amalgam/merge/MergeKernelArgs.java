package dev.amalgam.merge;

import dev.amalgam.cuda.KernelDType;
import dev.amalgam.cuda.KernelStruct;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * The {@code MergeArgs} struct that {@code merge_weighted_sum} takes by value, encoded byte for byte. The
 * offsets mirror the static_asserts in {@code cuda-kernels/merge.cu}; a unit test reads them from there.
 *
 * @param inputs device addresses of the inputs, in model order
 * @param divisor the sum of the weights when {@code normalize}, as {@code PlannedTensor.divisor()} computes it
 */
public record MergeKernelArgs(
    long[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean normalize,
    long output, DType outputType, long count) {

  public static final int MAX_INPUTS = 8;
  static final int SIZE = 160;
  static final Map<String, Integer> OFFSETS = Map.of(
      "inputs", 0,
      "output", 64,
      "count", 72,
      "weights", 80,
      "input_dtypes", 112,
      "input_count", 144,
      "output_dtype", 148,
      "divisor", 152,
      "normalize", 156);

  public MergeKernelArgs {
    if (inputs.length == 0 || inputs.length > MAX_INPUTS) {
      throw new IllegalArgumentException("the merge kernel takes 1 to " + MAX_INPUTS + " inputs, not " + inputs.length);
    }
    if (inputTypes.length != inputs.length || weights.length != inputs.length) {
      throw new IllegalArgumentException("inputs, input types and weights differ in number");
    }
    for (DType type : inputTypes) {
      KernelDType.code(type);
    }
    KernelDType.code(outputType);
  }


  /** The struct as passed by value: native (little-endian) bytes, unused input slots zero, and its pointers. */
  KernelStruct encode() {
    ByteBuffer struct = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < inputs.length; i++) {
      struct.putLong(OFFSETS.get("inputs") + 8 * i, inputs[i]);
      struct.putFloat(OFFSETS.get("weights") + 4 * i, weights[i]);
      struct.putInt(OFFSETS.get("input_dtypes") + 4 * i, KernelDType.code(inputTypes[i]));
    }
    struct.putLong(OFFSETS.get("output"), output);
    struct.putLong(OFFSETS.get("count"), count);
    struct.putInt(OFFSETS.get("input_count"), inputs.length);
    struct.putInt(OFFSETS.get("output_dtype"), KernelDType.code(outputType));
    struct.putFloat(OFFSETS.get("divisor"), divisor);
    struct.putInt(OFFSETS.get("normalize"), normalize ? 1 : 0);
    int[] pointers = new int[inputs.length + 1];
    for (int i = 0; i < inputs.length; i++) {
      pointers[i] = OFFSETS.get("inputs") + 8 * i;
    }
    pointers[inputs.length] = OFFSETS.get("output");
    return new KernelStruct(struct.array(), pointers);
  }
}
