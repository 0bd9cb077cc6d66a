package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * merge.cu's segment weights and pair element ops ({@link TensorRule}) executed on the CPU through
 * {@link MergeKernel#weightedSum} (see {@link EmulatedGpu}), with the arguments the CUDA pipeline builds
 * ({@link CudaMergePipeline#kernelArgs}), bit for bit against {@link LinearKernel} and {@link PairKernel}, for
 * launches that start inside a row of the tensor, as a chunk does.
 */
class RuleKernelEmulationTest {
  private static final long[] SHAPE = {40, 100};

  @TempDir Path dir;

  private final Random random = new Random();

  @Test
  void weightsPerTensor() {
    check(combination(TensorRule.Segments.TENSOR), false, new DType[] {DType.BF16, DType.F32}, DType.BF16, 0);
  }

  @Test
  void weightsPerRowOverTaskVectors() {
    check(combination(TensorRule.Segments.ROWS), true, new DType[] {DType.BF16, DType.F16, DType.BF16}, DType.BF16,
        1037);
  }

  @Test
  void weightsPerColumn() {
    check(combination(TensorRule.Segments.COLUMNS), false, new DType[] {DType.F32, DType.BF16}, DType.F32, 1037);
  }

  @Test
  void nearSwap() {
    check(new TensorRule.NearSwap(0.3f), false, new DType[] {DType.BF16, DType.BF16}, DType.BF16, 333);
  }

  @Test
  void fusionMask() {
    check(new TensorRule.Fusion(), false, new DType[] {DType.BF16, DType.F32}, DType.F32, 1037);
  }

  private static TensorRule combination(TensorRule.Segments segments) {
    return new TensorRule.Combination(segments, gram -> NuSlerpMerge.coefficients(0.3, gram));
  }

  private void check(TensorRule rule, boolean taskVectors, DType[] types, DType outType, int from) {
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    int count = (int) (SHAPE[0] * SHAPE[1]);
    ByteBuffer[] inputs = new ByteBuffer[types.length];
    long[] addresses = new long[types.length];
    List<TensorInfo> infos = new ArrayList<>();
    for (int m = 0; m < types.length; m++) {
      inputs[m] = input(types[m], count, m == 0 ? null : inputs[0]);
      int skipped = from * types[m].byteSize();
      byte[] launched = new byte[inputs[m].capacity() - skipped];
      inputs[m].get(skipped, launched);
      addresses[m] = gpu.upload(launched);
      infos.add(new TensorInfo("model.layers.0.mlp.up_proj.weight", types[m], SHAPE, Path.of("m" + m), 0,
          inputs[m].capacity()));
    }
    PlannedTensor tensor = new PlannedTensor(infos.get(0).name(), SHAPE, infos, new float[types.length], false,
        outType, taskVectors, 1f, false, null, null, rule, null);
    RuleStatistics statistics = RuleStatistics.of(tensor, inputs);
    int launched = count - from;
    long values = 0;
    if (statistics.stride() > 0 && statistics.segments() != TensorRule.Segments.TENSOR) {
      int[] range = statistics.valueRange(from, launched);
      ByteBuffer bytes = ByteBuffer.allocate((range[1] - range[0]) * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(statistics.values(), range[0], range[1] - range[0]);
      values = gpu.upload(bytes.array());
    }
    int outBytes = launched * outType.byteSize();
    long out = gpu.poisoned(outBytes + 64);
    MergeKernel.weightedSum(gpu, CudaMergePipeline.kernelArgs(tensor, null, statistics,
        new StagingSlot.Uploaded(addresses, new long[types.length], values), out, from, launched));

    ByteBuffer expected = ByteBuffer.allocate(outBytes).order(ByteOrder.LITTLE_ENDIAN);
    if (rule instanceof TensorRule.Combination) {
      boolean whole = statistics.segments() == TensorRule.Segments.TENSOR;
      new LinearKernel().run(inputs, types, whole ? statistics.values() : tensor.weights(), 1f, taskVectors, 1f, null,
          whole ? null : statistics, null, expected, outType, from, count);
    } else {
      new PairKernel().run(inputs, types, rule, statistics, null, expected, outType, from, count);
    }
    byte[] actual = gpu.bytes(out);
    assertArrayEquals(expected.array(), Arrays.copyOf(actual, outBytes), "the kernel's output differs from the CPU's");
    byte[] poison = new byte[actual.length - outBytes];
    Arrays.fill(poison, EmulatedGpu.POISON);
    assertArrayEquals(poison, Arrays.copyOfRange(actual, outBytes, actual.length), "the kernel wrote past its output");
  }

  /**
   * Gaussian values; for a model (a base given), the base's values plus a change that is 0 in a tenth of the
   * elements, as fine-tunes are.
   */
  private ByteBuffer input(DType type, int count, ByteBuffer base) {
    ByteBuffer b = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      float value = (float) random.nextGaussian();
      if (base != null) {
        float b0 = base.capacity() == count * 4 ? base.getFloat(i * 4) : FloatBits.bf16ToFloat(base.getShort(i * 2));
        value = random.nextInt(10) == 0 ? b0 : b0 + 0.05f * value;
      }
      switch (type) {
        case F32 -> b.putFloat(value);
        case F16 -> b.putShort(FloatBits.floatToF16(value));
        default -> b.putShort(FloatBits.floatToBf16(value));
      }
    }
    return b.flip();
  }
}
