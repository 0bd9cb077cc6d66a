package dev.amalgam.backend.cuda.emulated;

import static dev.amalgam.backend.cuda.emulated.GridStride.MAX_BLOCKS;
import static dev.amalgam.backend.cuda.emulated.GridStride.THREADS;
import static dev.amalgam.backend.cuda.emulated.GridStride.blocksFor;
import static dev.amalgam.backend.cuda.emulated.KernelEmulator.bytes;
import static dev.amalgam.backend.cuda.emulated.KernelEmulator.relativeL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** elementwise.cu executed on the CPU (see {@link KernelEmulator}) against FloatBits and float64 references. */
class ElementwiseKernelEmulationTest {
  private static final int N = 2 * MAX_BLOCKS * THREADS + 77;  // twice round the grid-stride loops, and a bit

  @TempDir static Path dir;
  private static KernelEmulator elementwise;

  private final Random random = new Random(3);

  @BeforeAll
  static void compile() throws Exception {
    elementwise = KernelEmulator.compile("elementwise.cu", dir);
  }

  @Test
  void embeddingGatherCopiesTheRowsOfTheIds() throws Exception {
    int vocab = 50;
    int hidden = 96;
    int[] ids = {7, 0, 49, 7, 23, 31, 2, 18, 40, 11, 5, 36, 44, 9, 1, 28, 30, 3, 12, 47, 20, 15, 38, 6, 8, 41, 26};
    short[] table = new short[vocab * hidden];
    for (int i = 0; i < table.length; i++) {
      table[i] = FloatBits.floatToBf16((float) random.nextGaussian());
    }
    KernelEmulator.Launch launch = elementwise.launch("embedding_gather", blocksFor((long) ids.length * hidden),
        1, 1, THREADS);
    int t = launch.buffer(bytes(table));
    int i = launch.buffer(bytes(ids));
    int out = launch.poisoned(4 * ids.length * hidden);
    float[] actual = launch.pointer(t).pointer(i).pointer(out).i32(ids.length).i32(hidden).run().floats(out);
    float[] expected = new float[ids.length * hidden];
    for (int row = 0; row < ids.length; row++) {
      for (int c = 0; c < hidden; c++) {
        expected[row * hidden + c] = FloatBits.bf16ToFloat(table[ids[row] * hidden + c]);
      }
    }
    assertArrayEquals(expected, actual);
  }

  @Test
  void convertToBf16RoundsEveryTypeAsFloatBits() throws Exception {
    float[] values = KernelEmulator.gaussians(random, N, 3f);
    values[0] = Float.NaN;
    values[1] = Float.NEGATIVE_INFINITY;
    values[2] = 1e-40f;  // subnormal
    short[] expected = new short[N];
    for (int i = 0; i < N; i++) {
      expected[i] = FloatBits.floatToBf16(values[i]);
    }
    assertArrayEquals(expected, convert(bytes(values), DType.F32), "from f32");

    short[] halves = new short[N];
    for (int i = 0; i < N; i++) {
      halves[i] = FloatBits.floatToF16(values[i]);
      expected[i] = FloatBits.floatToBf16(FloatBits.f16ToFloat(halves[i]));
    }
    assertArrayEquals(expected, convert(bytes(halves), DType.F16), "from f16");
    assertArrayEquals(halves, convert(bytes(halves), DType.BF16), "bf16 is copied");
  }

  private short[] convert(byte[] source, DType type) throws Exception {
    KernelEmulator.Launch launch = elementwise.launch("convert_to_bf16", blocksFor(N), 1, 1, THREADS);
    int src = launch.buffer(source);
    int out = launch.poisoned(2 * N);
    return launch.pointer(src).i32(code(type)).pointer(out).i64(N).run().shorts(out);
  }

  /** AMALGAM_F32 / F16 / BF16 of elementwise.cu (GenerationKernelsTest checks GenerationKernels.dtypeCode). */
  private static int code(DType type) {
    return switch (type) {
      case F32 -> 0;
      case F16 -> 1;
      default -> 2;
    };
  }

  @Test
  void addBiasAddsTheBiasOfEachColumn() throws Exception {
    int rows = 7;
    int cols = 600;
    float[] out = KernelEmulator.gaussians(random, rows * cols, 3f);
    short[] bias = new short[cols];
    float[] expected = new float[rows * cols];
    for (int c = 0; c < cols; c++) {
      bias[c] = FloatBits.floatToBf16((float) random.nextGaussian());
    }
    for (int i = 0; i < expected.length; i++) {
      expected[i] = out[i] + FloatBits.bf16ToFloat(bias[i % cols]);
    }
    KernelEmulator.Launch launch = elementwise.launch("add_bias", blocksFor((long) rows * cols), 1, 1, THREADS);
    int o = launch.buffer(bytes(out));
    int b = launch.buffer(bytes(bias));
    assertArrayEquals(expected, launch.pointer(o).pointer(b).i32(rows).i32(cols).run().floats(o));
  }

  @Test
  void siluMulAndAddInPlace() throws Exception {
    float[] gate = KernelEmulator.gaussians(random, N, 3f);
    float[] up = KernelEmulator.gaussians(random, N, 3f);
    double[] silu = new double[N];
    float[] sum = new float[N];
    for (int i = 0; i < N; i++) {
      silu[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
      sum[i] = gate[i] + up[i];
    }
    KernelEmulator.Launch launch = elementwise.launch("silu_mul", blocksFor(N), 1, 1, THREADS);
    int g = launch.buffer(bytes(gate));
    int u = launch.buffer(bytes(up));
    KernelEmulator.Result result = launch.pointer(g).pointer(u).pointer(g).i64(N).run();  // out aliases gate
    assertTrue(relativeL2(result.floats(g), silu) < 1e-5, "silu_mul differs from the reference");
    assertArrayEquals(bytes(up), result.bytes(u), "silu_mul wrote up");

    launch = elementwise.launch("add", blocksFor(N), 1, 1, THREADS);
    int a = launch.buffer(bytes(gate));
    int b = launch.buffer(bytes(up));
    result = launch.pointer(a).pointer(b).pointer(a).i64(N).run();
    assertArrayEquals(sum, result.floats(a), "add is the float32 sum");
  }

}
