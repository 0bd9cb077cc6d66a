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
 * merge.cu executed on the CPU through {@link MergeKernel#weightedSum} (see {@link EmulatedGpu}), bit for bit
 * against {@link LinearKernel}, with the struct {@link MergeKernelArgs#encode} passes to the GPU.
 */
class MergeKernelEmulationTest {
  @TempDir Path dir;

  private final Random random = new Random(5);

  @Test
  void mixedInputsToBf16WithATailAndNormalization() {
    check(new DType[] {DType.F32, DType.F16, DType.BF16}, DType.BF16, true, 1003, new int[] {0, 0, 0}, 0);
  }

  @Test
  void toF16OverMoreElementsThanTheGridHoldsAtOnce() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.F16, false, 40_003,
        new int[] {0, 0, 0, 0}, 0);
  }

  @Test
  void misalignedInputTakesTheScalarPathToF32() {
    check(new DType[] {DType.F16, DType.F32}, DType.F32, true, 1000, new int[] {2, 0}, 0);
  }

  @Test
  void misalignedOutputTakesTheScalarPathToBf16() {
    check(new DType[] {DType.F32, DType.BF16}, DType.BF16, false, 77, new int[] {0, 0}, 6);
  }

  /** Task vectors over a base (input 0), as task_arithmetic merges them: the vector path and a tail. */
  @Test
  void taskVectorsScaledByLambda() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.BF16, false, 1003,
        new int[] {0, 0, 0, 0}, 0, new TaskVectorCase(0.8f, false, null, 0, null));
  }

  @Test
  void taskVectorsNormalizedOnTheScalarPath() {
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, true, 500, new int[] {0, 2, 0}, 0,
        new TaskVectorCase(1f, false, null, 0, null));
  }

  /** TIES' sign election over task vectors whose inputs include infinities, tiny values and signed zeros. */
  @Test
  void signElectedTaskVectorsOnBothPaths() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.BF16, true, 1003,
        new int[] {0, 0, 0, 0}, 0, new TaskVectorCase(1f, true, null, 0, null));
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, false, 300, new int[] {0, 2, 0}, 0,
        new TaskVectorCase(0.8f, true, null, 0, null));
  }

  /** Magnitude cuts (TIES, breadcrumbs), L1-rescaled, with and without the sign election. */
  @Test
  void magnitudeCutsAndRescaling() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.BF16, true, 2003,
        new int[] {0, 0, 0, 0}, 0, new TaskVectorCase(1f, true, thinning(Sparsification.Kind.MAGNITUDE, 4, true), 0, null));
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, false, 700, new int[] {0, 2, 0}, 0,
        new TaskVectorCase(0.8f, false, thinning(Sparsification.Kind.MAGNITUDE_OUTLIERS, 3, false), 0, null));
  }

  /**
   * DARE's random drops, drawn by the kernel's Philox from the element's index in the whole tensor: a launch over
   * a chunk that starts mid-tensor keeps exactly what the CPU keeps for those elements.
   */
  @Test
  void randomDropsAtTheTensorsElementIndices() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16}, DType.BF16, false, 3001, new int[] {0, 0, 0}, 0,
        new TaskVectorCase(1f, true, thinning(Sparsification.Kind.RANDOM, 3, true), 0, null));
    check(new DType[] {DType.F32, DType.BF16, DType.BF16, DType.F32}, DType.F32, true, 2000, new int[] {0, 0, 0, 0},
        0, new TaskVectorCase(0.8f, false, thinning(Sparsification.Kind.RANDOM, 4, true), 1001, null));
  }

  /**
   * DELLA: the kernel reads the keep bits the host drew from its row ranks, for a launch that starts mid-tensor
   * (rows of 100; the chunk starts inside a row); DARE without rescale draws on the device instead.
   */
  @Test
  void keepBitsDrawnOnTheHost() {
    Sparsification della = thinning(Sparsification.Kind.RANKED_RANDOM, 3, true);
    Arrays.fill(della.epsilons(), 0.1);
    check(new DType[] {DType.BF16, DType.BF16, DType.F32}, DType.BF16, true, 3000, new int[] {0, 0, 0}, 0,
        new TaskVectorCase(1f, true, della, 1037, null), new long[] {30, 100});
    Sparsification unscaled = thinning(Sparsification.Kind.RANKED_RANDOM, 3, false);
    Arrays.fill(unscaled.epsilons(), 0.1);
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, false, 2000, new int[] {0, 0, 0}, 0,
        new TaskVectorCase(0.8f, false, unscaled, 0, null), new long[] {20, 100});
    check(new DType[] {DType.BF16, DType.BF16, DType.BF16}, DType.BF16, false, 2000, new int[] {0, 0, 0}, 0,
        new TaskVectorCase(1f, false, thinning(Sparsification.Kind.RANDOM, 3, false), 333, null));
  }

  /** SCE: per-tensor weights, a selection by variance (here the largest 60%), the unweighted sign election. */
  @Test
  void sceOnBothPaths() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.BF16, true, 2003,
        new int[] {0, 0, 0, 0}, 0, new TaskVectorCase(1f, true, null, 0, new SceMerge.SceSelection(0.6)));
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, true, 301, new int[] {0, 2, 0}, 0,
        new TaskVectorCase(1f, true, null, 0, new SceMerge.SceSelection(0.3)));
  }

  /**
   * A task-vector merge: lambda, sign election, thinning (null for none), the tensor element the launch starts
   * at (the inputs are the whole tensor; the kernel gets the part from {@code firstElement} on) and SCE (null for
   * other methods).
   */
  private record TaskVectorCase(float lambda, boolean consensus, Sparsification thinning, int firstElement,
      SceMerge.SceSelection sce) {}

  /** Densities 0.4, 0.6, ... for the task vectors, the last one kept whole; gamma 0.05; seed 77. */
  private static Sparsification thinning(Sparsification.Kind kind, int inputs, boolean rescale) {
    double[] densities = new double[inputs];
    double[] gammas = new double[inputs];
    for (int m = 0; m < inputs; m++) {
      densities[m] = m == 0 || m == inputs - 1 ? 1 : 0.2 + 0.2 * m;
      gammas[m] = m == 0 ? 0 : 0.05;
    }
    return new Sparsification(kind, densities, gammas, new double[inputs], rescale, 77);
  }

  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset) {
    check(types, outType, normalize, count, offsets, outOffset, null);
  }

  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset,
      TaskVectorCase taskVectors) {
    check(types, outType, normalize, count, offsets, outOffset, taskVectors, new long[] {count});
  }

  /**
   * offsets: bytes from each input buffer's (aligned) start to its first element; outOffset likewise; shape: the
   * tensor's (DELLA ranks within its rows).
   */
  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset,
      TaskVectorCase taskVectors, long[] shape) {
    // One emulated multiprocessor: the grid holds 16 blocks of 256 threads of 8 elements, so 40k elements stride.
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    int from = taskVectors == null ? 0 : taskVectors.firstElement();
    ByteBuffer[] inputs = new ByteBuffer[types.length];
    long[] addresses = new long[types.length];
    float[] weights = new float[types.length];
    List<TensorInfo> infos = new ArrayList<>();
    float divisor = 0;
    for (int m = 0; m < types.length; m++) {
      inputs[m] = input(types[m], count);
      int skipped = from * types[m].byteSize();
      byte[] padded = new byte[offsets[m] + inputs[m].capacity() - skipped];
      inputs[m].get(skipped, padded, offsets[m], inputs[m].capacity() - skipped);
      addresses[m] = gpu.upload(padded) + offsets[m];
      weights[m] = (float) random.nextGaussian();
      if (taskVectors == null || m > 0) {  // the base has no weight of its own
        divisor += weights[m];
      }
      infos.add(new TensorInfo("model.layers.0.mlp.up_proj.weight", types[m], new long[] {count},
          Path.of("m" + m + ".safetensors"), 0, inputs[m].capacity()));
    }
    int launched = count - from;
    int outBytes = launched * outType.byteSize();
    long out = gpu.poisoned(outOffset + outBytes + 64);
    ByteBuffer expected = ByteBuffer.allocate(outBytes).order(ByteOrder.LITTLE_ENDIAN);
    if (taskVectors == null) {
      MergeKernel.weightedSum(gpu, new MergeKernelArgs(addresses, types, weights, normalize ? divisor : 1f,
          normalize, out + outOffset, outType, launched));
      new LinearKernel().run(inputs, types, weights, normalize ? divisor : 1f, expected, outType, 0, count);
    } else {
      PlannedTensor tensor = new PlannedTensor(infos.get(0).name(), shape, infos, weights, normalize,
          outType, true, taskVectors.lambda(), taskVectors.consensus(), taskVectors.thinning(), taskVectors.sce());
      TensorStatistics statistics = TensorStatistics.of(tensor, inputs);
      float[] used = statistics.weightsOr(weights);
      // The keep bits the host drew, for the launch's elements, as the pipeline uploads them.
      long[] keepBits = new long[types.length];
      for (int m = 0; m < types.length; m++) {
        if (statistics.keepMasks()[m] != null) {
          ByteBuffer bits = ByteBuffer.allocate((int) KeepMask.wordBytes(launched));
          statistics.keepMasks()[m].copyBits(from, launched, bits);
          keepBits[m] = gpu.upload(bits.array());
        }
      }
      MergeKernel.weightedSum(gpu, new MergeKernelArgs(addresses, types, used, tensor.divisor(), normalize,
          out + outOffset, outType, launched, MergeKernelArgs.TaskVectors.of(tensor, statistics, from, keepBits)));
      TaskVectorThinning thinning = taskVectors.thinning() == null ? null
          : new TaskVectorThinning(tensor, inputs, statistics);
      if (taskVectors.consensus()) {
        new LinearKernel().runWithConsensus(inputs, types, used, thinning, taskVectors.sce() != null,
            statistics.varianceCut(), normalize, taskVectors.lambda(), null, expected, outType, from, count);
      } else {
        new LinearKernel().run(inputs, types, weights, tensor.divisor(), true, taskVectors.lambda(), thinning, null,
            null, expected, outType, from, count);
      }
    }
    byte[] actual = gpu.bytes(out);
    assertArrayEquals(expected.array(), Arrays.copyOfRange(actual, outOffset, outOffset + outBytes),
        "the kernel's output differs from LinearKernel's");
    byte[] outside = new byte[actual.length - outBytes];
    System.arraycopy(actual, 0, outside, 0, outOffset);
    System.arraycopy(actual, outOffset + outBytes, outside, outOffset, actual.length - outOffset - outBytes);
    byte[] poison = new byte[outside.length];
    Arrays.fill(poison, EmulatedGpu.POISON);
    assertArrayEquals(poison, outside, "the kernel wrote outside its output");
  }

  /** Gaussian values with a few that overflow f16, underflow to its subnormals, or are negative zero. */
  private ByteBuffer input(DType type, int count) {
    ByteBuffer b = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      float value = switch (i % 97) {
        case 13 -> 70_000f;
        case 31 -> 3e-6f;
        case 59 -> -0f;
        default -> (float) random.nextGaussian() * 4;
      };
      switch (type) {
        case F32 -> b.putFloat(value);
        case F16 -> b.putShort(FloatBits.floatToF16(value));
        default -> b.putShort(FloatBits.floatToBf16(value));
      }
    }
    return b.flip();
  }
}
