package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * merge.cu's statistics kernels on the GPU against the host passes, bit for bit, on fresh random tensors: two blocks,
 * and the seed model's MLP shape (many blocks, and the atomics of thousands of threads contending for bins).
 */
@Tag("gpu")
class DeviceStatisticsGpuTest {
  private static CudaContext context;
  private static MergeKernel kernel;
  private static CudaStream stream;
  private static StreamWorkspace workspace;

  @BeforeAll
  static void open() throws Exception {
    context = CudaContext.open(0);
    Path cache = Files.createTempDirectory("amalgam-cubin");
    kernel = MergeKernel.load(context, new KernelCompiler(new KernelCache(cache)));
    stream = CudaStream.create();
    workspace = new StreamWorkspace(stream);
  }

  @AfterAll
  static void close() {
    if (workspace != null) {
      workspace.close();
    }
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
    List<Arguments> cases = new ArrayList<>();
    for (long[] shape : new long[][] {{2, 140_001}, {1536, 8960}}) {
      cases.add(Arguments.of(shape, new Sparsification(Sparsification.Kind.MAGNITUDE, new double[] {1, 0.3, 0.6},
          new double[3], new double[3], false, 0), null, null));
      cases.add(Arguments.of(shape, new Sparsification(Sparsification.Kind.MAGNITUDE_OUTLIERS,
          new double[] {1, 0.5, 0.4}, new double[] {0, 0.01, 0.05}, new double[3], true, 0), null, DType.BF16));
      cases.add(Arguments.of(shape, new Sparsification(Sparsification.Kind.RANDOM, new double[] {1, 0.5, 0.7},
          new double[3], new double[3], true, 0x5EED_1234_5678L), null, null));
      cases.add(Arguments.of(shape, null, new SceMerge.SceSelection(0.3), null));
      cases.add(Arguments.of(shape, new Sparsification(Sparsification.Kind.RANKED_RANDOM, new double[] {1, 0.5, 0.6},
          new double[3], new double[] {0, 0.15, 0.1}, true, 77), null, null));
    }
    return cases.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void theGpuFindsTheHostsStatistics(long[] shape, Sparsification sparsification, SceMerge.SceSelection sce,
      DType rounding) {
    PlannedTensor tensor = DeviceStatisticsEmulationTest.randomTensor(shape, sparsification, sce, rounding);
    ByteBuffer[] inputs = DeviceStatisticsEmulationTest.randomInputs(new Random(), tensor);
    List<DeviceBuffer> buffers = new ArrayList<>();
    try {
      long[] addresses = new long[inputs.length];
      for (int m = 0; m < inputs.length; m++) {
        DeviceBuffer buffer = DeviceBuffer.allocate(inputs[m].remaining());
        buffers.add(buffer);
        ByteBuffer direct = ByteBuffer.allocateDirect(inputs[m].remaining());
        direct.put(inputs[m].duplicate()).flip();
        buffer.upload(direct);
        addresses[m] = buffer.address();
      }
      StatisticsPasses host = new HostStatisticsPasses(tensor, inputs);
      DeviceBuffer keepBits = DeviceBuffer.allocate(3 * Math.max(ResidentInputs.keepBitBytes(tensor), 1));
      buffers.add(keepBits);
      long[] keepBitAddresses = new long[3];
      for (int m = 1; m < 3 && ResidentInputs.keepBitBytes(tensor) > 0; m++) {
        keepBitAddresses[m] = keepBits.address() + m * ResidentInputs.keepBitBytes(tensor);
      }
      StatisticsPasses device = new DeviceStatistics(tensor, addresses, keepBitAddresses, kernel.on(stream),
          workspace);
      TensorStatistics unscaled = TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(3), 0);
      if (sparsification != null) {
        StatisticsPasses.Norms[] hostNorms = host.l1(new int[] {1, 2}, unscaled);
        StatisticsPasses.Norms[] deviceNorms = device.l1(new int[] {1, 2}, unscaled);
        for (int c = 0; c < 2; c++) {
          assertEquals(hostNorms[c].before(), deviceNorms[c].before(), "L1 before thinning");
          assertEquals(hostNorms[c].after(), deviceNorms[c].after(), "L1 after thinning");
        }
      } else {
        assertArrayEquals(host.selectedSquares(0), device.selectedSquares(0), "SCE's squares");
      }
      DeviceStatisticsEmulationTest.assertSame(TensorStatistics.of(tensor, inputs),
          DeviceStatistics.of(tensor, addresses, keepBitAddresses, kernel.on(stream), workspace), tensor.name());
    } finally {
      buffers.forEach(DeviceBuffer::close);
    }
  }
}
