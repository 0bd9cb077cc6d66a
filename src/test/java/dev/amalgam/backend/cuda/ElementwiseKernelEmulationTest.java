package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.Closeness.assertClose;
import static dev.amalgam.testing.LittleEndian.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.OpReference;
import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.testing.RandomArrays;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** elementwise.cu executed on the CPU through its launchers (see {@link EmulatedGpu}). */
class ElementwiseKernelEmulationTest {
  // One emulated multiprocessor: twice round the grid-stride loops, and a bit.
  private static final int N = 2 * GridStride.BLOCKS_PER_MULTIPROCESSOR * GridStride.THREADS + 77;

  @TempDir Path dir;
  private EmulatedGpu gpu;
  private final Random random = new Random(3);

  @BeforeEach
  void open() {
    gpu = EmulatedGpu.open(dir, 1);
  }

  @Test
  void embeddingGatherCopiesTheRowsOfTheIds() {
    int vocab = 50;
    int hidden = 96;
    int[] ids = {7, 0, 49, 7, 23, 31, 2, 18, 40, 11, 5, 36, 44, 9, 1, 28, 30, 3, 12, 47, 20, 15, 38, 6, 8, 41, 26};
    short[] table = RandomArrays.bf16Gaussians(random, vocab * hidden, 1f);
    long out = gpu.poisoned(4L * ids.length * hidden);
    ElementwiseKernels.embeddingGather(gpu, gpu.upload(table), gpu.upload(ids), out, ids.length, hidden);
    assertClose(gpu.floats(out, ids.length * hidden), OpReference.embedding(RandomArrays.widened(table), ids, hidden),
        1e-30, "embedding_gather");
  }

  @Test
  void convertToBf16RoundsEveryTypeAsFloatBits() {
    float[] values = RandomArrays.gaussians(random, N, 3f);
    values[0] = Float.NaN;
    values[1] = Float.NEGATIVE_INFINITY;
    values[2] = 1e-40f;  // subnormal
    assertArrayEquals(RandomArrays.bf16Bits(values), convert(bytes(values), DType.F32), "from f32");

    short[] halves = new short[N];
    short[] expected = new short[N];
    for (int i = 0; i < N; i++) {
      halves[i] = FloatBits.floatToF16(values[i]);
      expected[i] = FloatBits.floatToBf16(FloatBits.f16ToFloat(halves[i]));
    }
    assertArrayEquals(expected, convert(bytes(halves), DType.F16), "from f16");
    assertArrayEquals(halves, convert(bytes(halves), DType.BF16), "bf16 is copied");
  }

  private short[] convert(byte[] source, DType type) {
    long out = gpu.poisoned(2L * N);
    ElementwiseKernels.convertToBf16(gpu, gpu.upload(source), type, out, N);
    return gpu.shorts(out, N);
  }

  @Test
  void addBiasAddsTheBiasOfEachColumn() {
    int rows = 7;
    int cols = 600;
    float[] x = RandomArrays.gaussians(random, rows * cols, 3f);
    short[] bias = RandomArrays.bf16Gaussians(random, cols, 1f);
    float[] expected = new float[rows * cols];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = x[i] + FloatBits.bf16ToFloat(bias[i % cols]);
    }
    long xs = gpu.upload(x);
    ElementwiseKernels.addBias(gpu, xs, gpu.upload(bias), rows, cols);
    assertArrayEquals(expected, gpu.floats(xs, expected.length), "the float32 sum, bit for bit");
  }

  @Test
  void siluMulAndAddInPlace() {
    float[] gate = RandomArrays.gaussians(random, N, 3f);
    float[] up = RandomArrays.gaussians(random, N, 3f);
    long g = gpu.upload(gate);
    long u = gpu.upload(up);
    ElementwiseKernels.siluMul(gpu, g, u, g, N);  // out aliases gate
    assertClose(gpu.floats(g, N), OpReference.siluMul(gate, up), 1e-5, "silu_mul");
    assertArrayEquals(bytes(up), gpu.bytes(u), "silu_mul wrote up");

    float[] sum = new float[N];
    for (int i = 0; i < N; i++) {
      sum[i] = gate[i] + up[i];
    }
    long a = gpu.upload(gate);
    ElementwiseKernels.add(gpu, a, gpu.upload(up), a, N);
    assertArrayEquals(sum, gpu.floats(a, N), "add is the float32 sum");
  }
}
