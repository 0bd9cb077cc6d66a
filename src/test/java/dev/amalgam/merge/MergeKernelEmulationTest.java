package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.cuda.emulated.KernelEmulator;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * merge.cu executed on the CPU (see {@link KernelEmulator}), bit for bit against {@link LinearKernel}, with the
 * struct {@link MergeKernelArgs#encode} passes to the GPU. In this package for that encoder.
 */
class MergeKernelEmulationTest {
  // MergeKernel.launch's shape: THREADS_PER_BLOCK threads, one per ELEMENTS_PER_THREAD elements, at most
  // BLOCKS_PER_MULTIPROCESSOR blocks per multiprocessor; one emulated multiprocessor, so 40k elements stride.
  private static final int THREADS = 256;
  private static final int ELEMENTS_PER_THREAD = 8;
  private static final int MAX_BLOCKS = 16 * 1;

  @TempDir static Path dir;
  private static KernelEmulator merge;

  private final Random random = new Random(5);

  @BeforeAll
  static void compile() throws Exception {
    merge = KernelEmulator.compile("merge.cu", dir);
  }

  @Test
  void mixedInputsToBf16WithATailAndNormalization() throws Exception {
    check(new DType[] {DType.F32, DType.F16, DType.BF16}, DType.BF16, true, 1003, new int[] {0, 0, 0}, 0);
  }

  @Test
  void toF16OverMoreElementsThanTheGridHoldsAtOnce() throws Exception {
    check(new DType[] {DType.BF16, DType.BF16, DType.F16, DType.F32}, DType.F16, false, 40_003,
        new int[] {0, 0, 0, 0}, 0);
  }

  @Test
  void misalignedInputTakesTheScalarPathToF32() throws Exception {
    check(new DType[] {DType.F16, DType.F32}, DType.F32, true, 1000, new int[] {2, 0}, 0);
  }

  @Test
  void misalignedOutputTakesTheScalarPathToBf16() throws Exception {
    check(new DType[] {DType.F32, DType.BF16}, DType.BF16, false, 77, new int[] {0, 0}, 6);
  }

  /** offsets: bytes from each input buffer's (aligned) start to its first element; outOffset likewise. */
  private void check(DType[] types, DType outType, boolean normalize, int count, int[] offsets, int outOffset)
      throws Exception {
    int blocks = (int) Math.min(MAX_BLOCKS, ((count + ELEMENTS_PER_THREAD - 1) / ELEMENTS_PER_THREAD + THREADS - 1)
        / THREADS);
    KernelEmulator.Launch launch = merge.launch("merge_weighted_sum", blocks, 1, 1, THREADS);
    ByteBuffer[] inputs = new ByteBuffer[types.length];
    long[] starts = new long[types.length];
    float[] weights = new float[types.length];
    int[] pointerOffsets = new int[types.length + 1];
    int[] pointerBuffers = new int[types.length + 1];
    float divisor = 0;
    for (int m = 0; m < types.length; m++) {
      inputs[m] = input(types[m], count);
      byte[] padded = new byte[offsets[m] + inputs[m].capacity()];
      inputs[m].get(0, padded, offsets[m], inputs[m].capacity());
      pointerBuffers[m] = launch.buffer(padded);
      pointerOffsets[m] = MergeKernelArgs.OFFSETS.get("inputs") + 8 * m;
      starts[m] = offsets[m];
      weights[m] = (float) random.nextGaussian();
      divisor += weights[m];
    }
    int outBytes = count * outType.byteSize();
    int out = launch.poisoned(outOffset + outBytes + 64);
    pointerOffsets[types.length] = MergeKernelArgs.OFFSETS.get("output");
    pointerBuffers[types.length] = out;
    byte[] struct = new MergeKernelArgs(starts, types, weights, normalize ? divisor : 1f, normalize, outOffset,
        outType, count).encode();
    byte[] actual = launch.struct(struct, pointerOffsets, pointerBuffers).run().bytes(out);

    ByteBuffer expected = ByteBuffer.allocate(outBytes).order(ByteOrder.LITTLE_ENDIAN);
    new LinearKernel().run(inputs, types, weights, normalize ? divisor : 1f, expected, outType, 0, count);
    assertArrayEquals(expected.array(), Arrays.copyOfRange(actual, outOffset, outOffset + outBytes),
        "the kernel's output differs from LinearKernel's");
    byte[] outside = new byte[actual.length - outBytes];
    System.arraycopy(actual, 0, outside, 0, outOffset);
    System.arraycopy(actual, outOffset + outBytes, outside, outOffset, actual.length - outOffset - outBytes);
    byte[] poison = new byte[outside.length];
    Arrays.fill(poison, KernelEmulator.POISON);
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
