package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The merge kernel against {@link MergeReference} on fresh random inputs, bit for bit. Outputs are poisoned
 * with 0xFF first and padded, so an element the kernel skips or a write past the end shows up. NaN outputs
 * only need to be NaN: the GPU returns the canonical NaN where Java keeps the input's payload.
 */
@Tag("gpu")
class CudaMergeKernelGpuTest {
  private static final int GUARD_BYTES = 64;
  private static final byte POISON = (byte) 0xFF;

  private static CudaContext context;
  private static MergeKernel kernel;
  private static CudaStream stream;

  @BeforeAll
  static void open() throws Exception {
    context = CudaContext.open(0);
    Path cache = Files.createTempDirectory("amalgam-cubin");
    kernel = MergeKernel.load(context, new KernelCompiler(new KernelCache(cache)));
    stream = CudaStream.create();
  }

  @AfterAll
  static void close() {
    // After a failed open, only what was opened: the open's own error is the one to read.
    if (stream != null) {
      stream.close();
    }
    if (kernel != null) {
      kernel.close();
    }
    if (context != null) {
      context.close();
    }
  }

  static Stream<Arguments> cases() {
    List<DType[]> mixes = List.of(
        new DType[] {DType.BF16, DType.BF16, DType.BF16},
        new DType[] {DType.F16, DType.BF16, DType.F32},
        new DType[] {DType.F32, DType.F16, DType.BF16, DType.F16},
        new DType[] {DType.F32, DType.BF16},
        new DType[] {DType.F32, DType.F32, DType.F16},
        new DType[] {DType.BF16, DType.BF16, DType.BF16, DType.BF16, DType.BF16, DType.BF16, DType.BF16, DType.BF16,
            DType.BF16});
    int[] sizes = {1, 7, 8, 9, 1000, 4099, (1 << 20) + 3};
    List<Arguments> cases = new ArrayList<>();
    for (DType[] mix : mixes) {
      for (int size : sizes) {
        DType[] inputs = Arrays.copyOf(mix, mix.length - 1);
        DType out = mix[mix.length - 1];
        cases.add(Arguments.of(size, inputs, out, true));
        cases.add(Arguments.of(size, inputs, out, false));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} elements {1} -> {2}, normalize {3}")
  @MethodSource("cases")
  void matchesTheJavaReferenceBitForBit(int count, DType[] inputTypes, DType outType, boolean normalize) {
    Random random = new Random(31L * count + inputTypes.length * 7L + outType.ordinal() + (normalize ? 1 : 0));
    assertMatchesReference(random, count, inputTypes, outType, normalize, 0);
  }

  /** A pointer that is not 16-byte aligned must take the scalar path and still be exact. */
  @Test
  void misalignedPointersFallBackToTheScalarPath() {
    assertMatchesReference(new Random(7), 4099, new DType[] {DType.BF16, DType.F16}, DType.BF16, true, 2);
    assertMatchesReference(new Random(8), 1000, new DType[] {DType.F32, DType.BF16}, DType.F32, false, 4);
  }

  private static void assertMatchesReference(
      Random random, int count, DType[] inputTypes, DType outType, boolean normalize, int misalignBytes) {
    float[] weights = new float[inputTypes.length];
    float divisor = 0f;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = normalize ? 0.05f + random.nextFloat() : random.nextFloat() * 3f - 1f;
      divisor += weights[i];
    }
    List<ByteBuffer> hostInputs = new ArrayList<>();
    List<DeviceBuffer> deviceInputs = new ArrayList<>();
    int outBytes = count * outType.byteSize();
    try (DeviceBuffer out = DeviceBuffer.allocate(misalignBytes + outBytes + GUARD_BYTES)) {
      long[] addresses = new long[inputTypes.length];
      for (int i = 0; i < inputTypes.length; i++) {
        ByteBuffer host = randomTensor(random, inputTypes[i], count);
        hostInputs.add(host);
        DeviceBuffer device = DeviceBuffer.allocate(misalignBytes + host.capacity());
        deviceInputs.add(device);
        device.upload(withLeadingBytes(host, misalignBytes));
        addresses[i] = device.address() + misalignBytes;
      }
      out.fill(POISON);
      MergeKernel.weightedSum(kernel.on(stream), new MergeKernelArgs(addresses, inputTypes, weights, normalize ? divisor : 1f, normalize,
          out.address() + misalignBytes, outType, count));
      stream.synchronize();
      ByteBuffer actual = out.download();
      ByteBuffer expected = MergeReference.merge(hostInputs, List.of(inputTypes), weights, normalize, divisor,
          outType, count);
      for (int b = 0; b < misalignBytes; b++) {
        assertEquals(POISON, actual.get(b), "wrote before the output");
      }
      for (int b = misalignBytes + outBytes; b < actual.capacity(); b++) {
        assertEquals(POISON, actual.get(b), "wrote past the output, byte " + b);
      }
      ByteBuffer result = actual.slice(misalignBytes, outBytes).order(ByteOrder.LITTLE_ENDIAN);
      assertSameElements(expected, result, outType, count);
    } finally {
      deviceInputs.forEach(DeviceBuffer::close);
    }
  }

  private static void assertSameElements(ByteBuffer expected, ByteBuffer actual, DType type, int count) {
    double errorSquared = 0;
    double normSquared = 0;
    for (int e = 0; e < count; e++) {
      float want = MergeReference.load(expected, type, e);
      float got = MergeReference.load(actual, type, e);
      if (Float.isNaN(want) && Float.isNaN(got)) {
        continue;
      }
      if (bits(expected, type, e) != bits(actual, type, e)) {
        throw new AssertionError("element " + e + " of " + count + " (" + type + "): expected " + want + " (0x"
            + Integer.toHexString(bits(expected, type, e)) + "), got " + got + " (0x"
            + Integer.toHexString(bits(actual, type, e)) + ")");
      }
      if (Float.isFinite(want)) {
        errorSquared += (double) (got - want) * (got - want);
        normSquared += (double) want * want;
      }
    }
    double relativeL2 = normSquared == 0 ? Math.sqrt(errorSquared) : Math.sqrt(errorSquared / normSquared);
    System.out.printf("merge kernel %d x %s: bit-exact, relative L2 error %.3g%n", count, type, relativeL2);
    assertEquals(0.0, relativeL2);
  }

  private static int bits(ByteBuffer buffer, DType type, int index) {
    return type == DType.F32 ? buffer.getInt(4 * index) : buffer.getShort(2 * index) & 0xffff;
  }

  private static ByteBuffer withLeadingBytes(ByteBuffer data, int leading) {
    ByteBuffer shifted = ByteBuffer.allocateDirect(leading + data.capacity());
    shifted.position(leading);
    shifted.put(data.duplicate().rewind());
    return shifted.rewind();
  }

  /** Gaussian values over several magnitudes, with NaN, infinities, zeros, subnormals and f16-overflowing values. */
  private static ByteBuffer randomTensor(Random random, DType type, int count) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-40f, 6e-8f, -3e-5f,
        70000f, 65519f, 1e30f, -1e-30f};
    for (int e = 0; e < count; e++) {
      float value = random.nextInt(50) == 0
          ? specials[random.nextInt(specials.length)]
          : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
      switch (type) {
        case F32 -> buffer.putFloat(4 * e, value);
        case F16 -> buffer.putShort(2 * e, FloatBits.floatToF16(value));
        case BF16 -> buffer.putShort(2 * e, FloatBits.floatToBf16(value));
        default -> throw new IllegalArgumentException(type.toString());
      }
    }
    return buffer;
  }
}
