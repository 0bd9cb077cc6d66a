package dev.amalgam.backend.cuda;

import static dev.amalgam.testing.Closeness.assertClose;
import static dev.amalgam.testing.LittleEndian.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.backend.OpReference;
import dev.amalgam.cuda.EmulatedGpu;
import dev.amalgam.testing.RandomArrays;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gemv.cu executed on the CPU through its launchers (see {@link EmulatedGpu}) against {@link OpReference#linear}
 * of the input rounded to bf16, as the kernels multiply it: {@code gemv_bf16} with one and three layers, and
 * {@code gemv_bf16_swiglu}.
 */
class GemvKernelEmulationTest {
  @TempDir Path dir;
  private EmulatedGpu gpu;
  private final Random random = new Random(13);

  @BeforeEach
  void open() {
    gpu = EmulatedGpu.open(dir, 1);
  }

  /** A linear layer's bf16 weight and optional bias, on the emulated GPU and widened for the reference. */
  private final class Layer {
    final float[] weight;
    final float[] bias;
    final GemvKernels.Layer device;

    Layer(int features, int in, int rows, boolean hasBias) {
      short[] w = RandomArrays.bf16Gaussians(random, features * in, 0.05f);
      short[] b = RandomArrays.bf16Gaussians(random, features, 1f);
      weight = RandomArrays.widened(w);
      bias = hasBias ? RandomArrays.widened(b) : null;
      device = new GemvKernels.Layer(gpu.upload(w), hasBias ? gpu.upload(b) : 0L, gpu.poisoned(4L * rows * features),
          features);
    }

    double[] reference(float[] x, int in) {
      return OpReference.linear(RandomArrays.roundedToBf16(x), weight, bias, in);
    }

    float[] output(double[] expected) {
      return gpu.floats(device.out(), expected.length);
    }
  }

  @Test
  void threeLayersOfOneInputWithAndWithoutBias() {
    // 70 chunks: lanes loop twice or thrice. 21 + 5 + 12 features: layer boundaries fall inside blocks, and the
    // last block has 6 of 8 warps busy.
    int rows = 3;
    int in = 560;
    float[] x = RandomArrays.gaussians(random, rows * in, 1f);
    List<Layer> layers = List.of(new Layer(21, in, rows, true), new Layer(5, in, rows, false),
        new Layer(12, in, rows, true));
    long xs = gpu.upload(x);
    List<GemvKernels.Layer> device = new ArrayList<>();
    layers.forEach(layer -> device.add(layer.device));
    GemvKernels.gemv(gpu, xs, rows, in, device);

    for (int n = 0; n < layers.size(); n++) {
      double[] expected = layers.get(n).reference(x, in);
      assertClose(layers.get(n).output(expected), expected, 1e-5, "gemv_bf16's layer " + n);
    }
    assertArrayEquals(bytes(x), gpu.bytes(xs), "gemv_bf16 wrote x");
  }

  @Test
  void oneLayerOfTheMostRowsWithoutBias() {
    int rows = GemvKernels.MAX_ROWS;
    int in = 256;
    float[] x = RandomArrays.gaussians(random, rows * in, 1f);
    Layer layer = new Layer(16, in, rows, false);
    GemvKernels.gemv(gpu, gpu.upload(x), rows, in, List.of(layer.device));
    double[] expected = layer.reference(x, in);
    assertClose(layer.output(expected), expected, 1e-5, "gemv_bf16");
  }

  @Test
  void swiGluOfGateAndUp() {
    int rows = 5;
    int in = 320;  // 40 chunks: lanes 0-7 loop twice
    int features = 13;
    float[] x = RandomArrays.gaussians(random, rows * in, 1f);
    Layer gate = new Layer(features, in, rows, true);
    Layer up = new Layer(features, in, rows, false);
    GemvKernels.swiglu(gpu, gpu.upload(x), gate.device, up.device.weight(), 0L, rows, in);
    double[] expected = OpReference.siluMul(gate.reference(x, in), up.reference(x, in));
    assertClose(gate.output(expected), expected, 1e-5, "gemv_bf16_swiglu");
  }
}
