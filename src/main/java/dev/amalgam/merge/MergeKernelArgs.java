package dev.amalgam.merge;

import dev.amalgam.cuda.KernelDType;
import dev.amalgam.cuda.KernelStruct;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
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
    long output, DType outputType, long count, boolean taskVectors, float lambda, boolean consensus,
    int[] keepFrom, int[] keepTo) {

  public static final int MAX_INPUTS = 8;
  static final int SIZE = 240;
  static final Map<String, Integer> OFFSETS = Map.ofEntries(
      Map.entry("inputs", 0),
      Map.entry("output", 64),
      Map.entry("count", 72),
      Map.entry("weights", 80),
      Map.entry("input_dtypes", 112),
      Map.entry("input_count", 144),
      Map.entry("output_dtype", 148),
      Map.entry("divisor", 152),
      Map.entry("normalize", 156),
      Map.entry("task_vectors", 160),
      Map.entry("lambda", 164),
      Map.entry("consensus", 168),
      Map.entry("keep_from", 172),
      Map.entry("keep_to", 204));

  /** A weighted sum. */
  public MergeKernelArgs(long[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean normalize,
      long output, DType outputType, long count) {
    this(inputs, inputTypes, weights, divisor, normalize, output, outputType, count, false, 1f, false,
        new int[inputs.length], allKept(inputs.length));
  }

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


  private static int[] allKept(int inputs) {
    int[] keepTo = new int[inputs];
    Arrays.fill(keepTo, MagnitudeThresholds.ALL);
    return keepTo;
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
    struct.putInt(OFFSETS.get("task_vectors"), taskVectors ? 1 : 0);
    struct.putFloat(OFFSETS.get("lambda"), lambda);
    struct.putInt(OFFSETS.get("consensus"), consensus ? 1 : 0);
    for (int i = 0; i < keepFrom.length; i++) {
      struct.putInt(OFFSETS.get("keep_from") + 4 * i, keepFrom[i]);
      struct.putInt(OFFSETS.get("keep_to") + 4 * i, keepTo[i]);
    }
    int[] pointers = new int[inputs.length + 1];
    for (int i = 0; i < inputs.length; i++) {
      pointers[i] = OFFSETS.get("inputs") + 8 * i;
    }
    pointers[inputs.length] = OFFSETS.get("output");
    return new KernelStruct(struct.array(), pointers);
  }
}
