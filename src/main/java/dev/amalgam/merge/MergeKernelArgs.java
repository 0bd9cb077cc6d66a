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
 * @param taskVectors null for a weighted sum; else input 0 is the base and the others are task vectors
 * @param rule null, or a {@link TensorRule}'s segment weights or element op
 * @param rounding null, or mergekit's arithmetic in that work dtype ({@link WorkRounding})
 */
public record MergeKernelArgs(
    long[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean normalize,
    long output, DType outputType, long count, TaskVectors taskVectors, Rule rule, DType rounding) {

  public static final int MAX_INPUTS = 8;
  static final int SIZE = 440;
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
      Map.entry("keep_to", 204),
      Map.entry("scale", 236),
      Map.entry("keep_probability", 268),
      Map.entry("random", 300),
      Map.entry("seed_lo", 304),
      Map.entry("seed_hi", 308),
      Map.entry("tensor_key", 312),
      Map.entry("first_element", 320),
      Map.entry("sce", 328),
      Map.entry("variance_cut", 332),
      Map.entry("keep_bits", 336),
      Map.entry("segment_values", 400),
      Map.entry("segment_length", 408),
      Map.entry("segment_kind", 416),
      Map.entry("segment_stride", 420),
      Map.entry("op", 424),
      Map.entry("op_parameter", 428),
      Map.entry("rounding", 432));

  /** The element ops besides the weighted sum, as merge.cu numbers them. */
  static final int OP_NEARSWAP = 1;
  static final int OP_FUSION = 2;

  /**
   * A {@link TensorRule}'s part: {@code op} (0 for the weighted sum, {@link #OP_NEARSWAP}, {@link #OP_FUSION}) and its
   * {@code parameter}; the {@code statistics}' segments, whose values for this launch's elements sit at device
   * address {@code segmentValues} (from the row of {@code firstElement} on, or every column's); {@code firstElement}
   * is the tensor's index of the launch's element 0.
   */
  public record Rule(int op, float parameter, RuleStatistics statistics, long segmentValues, long firstElement) {}

  /**
   * How the kernel combines task vectors ({@link PlannedTensor}, {@link TaskVectorThinning}), per input where an
   * array: {@code lambda}; TIES' sign election; the magnitude {@code cuts} and L1 {@code scales} of the thinning;
   * with {@code random}, each element kept when its {@link KeepDraws} uniform, for the merge's {@code seed} and
   * the tensor's {@code tensorKey}, is below {@code keepProbabilities}; {@code firstElement} is the tensor's
   * index of the launch's element 0; with {@code sce}, SCE's election and its {@code varianceCut};
   * {@code keepBits}, per input, the device address of the drawn keep bits for the launch's elements (the host's
   * {@link KeepMask}, or DELLA's drawn on the device), or 0 (then DARE draws in the element op). {@code seed} is
   * the merge's wherever a draw happens on the device.
   */
  public record TaskVectors(float lambda, boolean consensus, MagnitudeThresholds.Cuts cuts, float[] scales,
      float[] keepProbabilities, boolean random, long seed, int tensorKey, long firstElement, boolean sce,
      int varianceCut, long[] keepBits) {

    /** Task vectors of {@code n} inputs summed whole, for a launch that starts at element {@code firstElement}. */
    static TaskVectors whole(int n, long firstElement) {
      return new TaskVectors(1f, false, MagnitudeThresholds.Cuts.allKept(n), ones(n), ones(n), false, 0, 0,
          firstElement, false, 0, new long[n]);
    }

    /**
     * The arguments for the chunk of {@code tensor} that starts at element {@code firstElement}, with the drawn
     * keep bits of its inputs at {@code keepBits} (0 for none).
     */
    static TaskVectors of(PlannedTensor tensor, TensorStatistics statistics, long firstElement, long[] keepBits) {
      int n = tensor.inputs().size();
      Sparsification sparsification = tensor.sparsification();
      // Only DARE draws in the element op; DELLA's draws, which need its ranks, come as keep bits.
      boolean random = sparsification != null && sparsification.kind() == Sparsification.Kind.RANDOM;
      boolean drawn = sparsification != null && sparsification.kind().random();
      float[] keepProbabilities = new float[n];
      Arrays.fill(keepProbabilities, 1f);
      for (int m = 1; random && m < n; m++) {
        if (sparsification.thins(m)) {
          keepProbabilities[m] = (float) sparsification.densities()[m];
        }
      }
      return new TaskVectors(tensor.lambda(), tensor.consensus(), statistics.cuts(), statistics.scales(),
          keepProbabilities, random, drawn ? sparsification.seed() : 0, KeepDraws.tensorKey(tensor.name()),
          firstElement, tensor.sce() != null, statistics.varianceCut(), keepBits);
    }
  }

  /** A weighted sum. */
  public MergeKernelArgs(long[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean normalize,
      long output, DType outputType, long count) {
    this(inputs, inputTypes, weights, divisor, normalize, output, outputType, count, null, null, null);
  }

  /** A sum of task vectors, or a weighted sum. */
  public MergeKernelArgs(long[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean normalize,
      long output, DType outputType, long count, TaskVectors taskVectors) {
    this(inputs, inputTypes, weights, divisor, normalize, output, outputType, count, taskVectors, null, null);
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
    TaskVectors t = taskVectors != null ? taskVectors : TaskVectors.whole(inputs.length, 0);
    struct.putInt(OFFSETS.get("task_vectors"), taskVectors != null ? 1 : 0);
    struct.putFloat(OFFSETS.get("lambda"), t.lambda());
    struct.putInt(OFFSETS.get("consensus"), t.consensus() ? 1 : 0);
    for (int i = 0; i < inputs.length; i++) {
      struct.putInt(OFFSETS.get("keep_from") + 4 * i, t.cuts().keepFrom()[i]);
      struct.putInt(OFFSETS.get("keep_to") + 4 * i, t.cuts().keepTo()[i]);
      struct.putFloat(OFFSETS.get("scale") + 4 * i, t.scales()[i]);
      struct.putFloat(OFFSETS.get("keep_probability") + 4 * i, t.keepProbabilities()[i]);
    }
    struct.putInt(OFFSETS.get("random"), t.random() ? 1 : 0);
    struct.putInt(OFFSETS.get("seed_lo"), (int) t.seed());
    struct.putInt(OFFSETS.get("seed_hi"), (int) (t.seed() >>> 32));
    struct.putInt(OFFSETS.get("tensor_key"), t.tensorKey());
    struct.putLong(OFFSETS.get("first_element"), t.firstElement());
    struct.putInt(OFFSETS.get("sce"), t.sce() ? 1 : 0);
    struct.putInt(OFFSETS.get("variance_cut"), t.varianceCut());
    if (rule != null) {
      RuleStatistics statistics = rule.statistics();
      struct.putLong(OFFSETS.get("first_element"), rule.firstElement());
      struct.putLong(OFFSETS.get("segment_values"), rule.segmentValues());
      struct.putLong(OFFSETS.get("segment_length"), statistics.segmentLength());
      struct.putInt(OFFSETS.get("segment_kind"), statistics.segments().ordinal());
      struct.putInt(OFFSETS.get("segment_stride"), statistics.stride());
      struct.putInt(OFFSETS.get("op"), rule.op());
      struct.putFloat(OFFSETS.get("op_parameter"), rule.parameter());
    }
    struct.putInt(OFFSETS.get("rounding"), rounding == null ? 0 : KernelDType.code(rounding));
    int[] pointers = new int[2 * inputs.length + (rule != null ? 2 : 1)];
    for (int i = 0; i < inputs.length; i++) {
      struct.putLong(OFFSETS.get("keep_bits") + 8 * i, t.keepBits()[i]);
      pointers[i] = OFFSETS.get("inputs") + 8 * i;
      pointers[inputs.length + 1 + i] = OFFSETS.get("keep_bits") + 8 * i;
    }
    pointers[inputs.length] = OFFSETS.get("output");
    if (rule != null) {
      pointers[2 * inputs.length + 1] = OFFSETS.get("segment_values");
    }
    return new KernelStruct(struct.array(), pointers);
  }

  private static float[] ones(int n) {
    float[] ones = new float[n];
    Arrays.fill(ones, 1f);
    return ones;
  }
}
