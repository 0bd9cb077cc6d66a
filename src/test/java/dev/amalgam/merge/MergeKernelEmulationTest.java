package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
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
        new int[] {0, 0, 0, 0}, 0, true, 0.8f);
  }

  @Test
  void taskVectorsNormalizedOnTheScalarPath() {
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, true, 500, new int[] {0, 2, 0}, 0, true, 1f);
  }

  /** TIES' sign election over task vectors whose inputs include infinities, tiny values and signed zeros. */
  @Test
  void signElectedTaskVectorsOnBothPaths() {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.BF16, true, 1003,
        new int[] {0, 0, 0, 0}, 0, true, 1f, true);
    check(new DType[] {DType.F32, DType.BF16, DType.BF16}, DType.F32, false, 300, new int[] {0, 2, 0}, 0, true,
        0.8f, true);
  }

  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset) {
    check(types, outType, normalize, count, offsets, outOffset, false, 1f, false);
  }

  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset,
      boolean taskVectors, float lambda) {
    check(types, outType, normalize, count, offsets, outOffset, taskVectors, lambda, false);
  }

  /** offsets: bytes from each input buffer's (aligned) start to its first element; outOffset likewise. */
  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset,
      boolean taskVectors, float lambda, boolean consensus) {
    // One emulated multiprocessor: the grid holds 16 blocks of 256 threads of 8 elements, so 40k elements stride.
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    ByteBuffer[] inputs = new ByteBuffer[types.length];
    long[] addresses = new long[types.length];
    float[] weights = new float[types.length];
    float divisor = 0;
    for (int m = 0; m < types.length; m++) {
      inputs[m] = input(types[m], count);
      byte[] padded = new byte[offsets[m] + inputs[m].capacity()];
      inputs[m].get(0, padded, offsets[m], inputs[m].capacity());
      addresses[m] = gpu.upload(padded) + offsets[m];
      weights[m] = (float) random.nextGaussian();
      if (!taskVectors || m > 0) {  // the base has no weight of its own
        divisor += weights[m];
      }
    }
    int outBytes = count * outType.byteSize();
    // Task vectors get magnitude cuts that drop a part of each (under m, and for the first also over 3; the last
    // is kept whole), as ties and breadcrumbs make them.
    int[] keepFrom = new int[types.length];
    int[] keepTo = new int[types.length];
    Arrays.fill(keepTo, MagnitudeThresholds.ALL);
    for (int m = 1; taskVectors && m < types.length - 1; m++) {
      keepFrom[m] = Float.floatToRawIntBits(m);
    }
    if (taskVectors) {
      keepTo[1] = Float.floatToRawIntBits(3f);
    }
    MagnitudeThresholds.Cuts cuts = new MagnitudeThresholds.Cuts(keepFrom, keepTo);
    long out = gpu.poisoned(outOffset + outBytes + 64);
    MergeKernel.weightedSum(gpu, new MergeKernelArgs(addresses, types, weights, normalize ? divisor : 1f, normalize,
        out + outOffset, outType, count, taskVectors, lambda, consensus, keepFrom, keepTo));
    byte[] actual = gpu.bytes(out);

    ByteBuffer expected = ByteBuffer.allocate(outBytes).order(ByteOrder.LITTLE_ENDIAN);
    if (consensus) {
      new LinearKernel().runWithConsensus(inputs, types, weights, cuts, normalize, lambda, expected, outType, 0,
          count);
    } else {
      new LinearKernel().run(inputs, types, weights, normalize ? divisor : 1f, taskVectors, lambda,
          taskVectors ? cuts : null, expected, outType, 0, count);
    }
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
