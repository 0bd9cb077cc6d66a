package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.amalgam.config.MergeConfig;
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
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * merge.cu's statistics kernels on the CPU emulation ({@link EmulatedGpu}) through {@link DeviceStatistics}, against
 * the host passes bit for bit: magnitude cuts, L1 rescale factors (DARE's and DELLA's draws made on the device, and
 * DELLA's keep bits themselves), SCE's variance cut and weights, on fresh random tensors of two blocks and on the
 * mergekit oracle's cases.
 */
class DeviceStatisticsEmulationTest {
  private static final long[] TWO_BLOCKS = {2, 140_001};  // rows longer than half a block: one row per block
  private static final DType[] TYPES = {DType.BF16, DType.F32, DType.F16};
  /** Two-block rows short enough for DELLA's ranks (a comparison per pair in a row) to emulate quickly. */
  private static final long[] TWO_BLOCKS_OF_SHORT_ROWS = {65, 4096};
  private static final Set<String> ORACLE_TENSORS = Set.of("model.layers.1.self_attn.k_proj.weight",
      "model.layers.0.mlp.down_proj.weight", "model.norm.weight");

  @TempDir Path dir;

  private final Random random = new Random();

  @Test
  void tiesCutsEachTaskVectorByMagnitude() {
    TensorStatistics device = check(new Sparsification(Sparsification.Kind.MAGNITUDE, new double[] {1, 0.3, 0.6},
        new double[3], new double[3], false, 0), null, null);
    assertNotEquals(0, device.cuts().keepFrom()[1], "a cut was made");
  }

  @Test
  void breadcrumbsCutsBothEndsAndRescales() {
    TensorStatistics device = check(new Sparsification(Sparsification.Kind.MAGNITUDE_OUTLIERS,
        new double[] {1, 0.5, 0.4}, new double[] {0, 0.01, 0.05}, new double[3], true, 0), null, null);
    assertNotEquals(MagnitudeThresholds.ALL, device.cuts().keepTo()[2], "outliers dropped");
    assertNotEquals(1f, device.scales()[2], "rescaled");
  }

  @Test
  void dareRescalesByWhatItsDrawsKeep() {
    TensorStatistics device = check(new Sparsification(Sparsification.Kind.RANDOM, new double[] {1, 0.5, 0.7},
        new double[3], new double[3], true, 0x5EED_1234_5678L), null, null);
    assertNotEquals(1f, device.scales()[1], "rescaled");
    assertNull(device.keepMasks()[1], "the element op draws again instead of reading a mask");
  }

  /** The float64 sums themselves, not only the float32 factors made of them: the same bits in the same order. */
  @Test
  void theSumsAreTheHostsBitForBit() {
    PlannedTensor tensor = randomTensor(TWO_BLOCKS, new Sparsification(Sparsification.Kind.RANDOM,
        new double[] {1, 0.5, 0.7}, new double[3], new double[3], true, 3), null, null);
    assertEquals(2, TensorBlocks.of(tensor).count(), "blocks");
    ByteBuffer[] inputs = randomInputs(random, tensor);
    StatisticsPasses host = new HostStatisticsPasses(tensor, inputs);
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    StatisticsPasses device = new DeviceStatistics(tensor, upload(gpu, inputs), new long[3], gpu, workspace(gpu));
    TensorStatistics unscaled = TensorStatistics.unscaled(MagnitudeThresholds.Cuts.allKept(3), 0);
    StatisticsPasses.Norms[] hostNorms = host.l1(new int[] {1, 2}, unscaled);
    StatisticsPasses.Norms[] deviceNorms = device.l1(new int[] {1, 2}, unscaled);
    for (int c = 0; c < 2; c++) {
      assertEquals(hostNorms[c].before(), deviceNorms[c].before(), "L1 before thinning");
      assertEquals(hostNorms[c].after(), deviceNorms[c].after(), "L1 after thinning");
      assertNotEquals(hostNorms[c].before(), hostNorms[c].after(), "thinned");
    }
    int cut = host.variances().kthLargest(new int[] {0}, new long[] {1000})[0];
    assertArrayEquals(host.selectedSquares(cut), device.selectedSquares(cut), "SCE's selected squares");
  }

  @Test
  void dellaDrawsByRankWithinRowsAndRescales() {
    TensorStatistics device = check(TWO_BLOCKS_OF_SHORT_ROWS, new Sparsification(Sparsification.Kind.RANKED_RANDOM,
        new double[] {1, 0.5, 0.6}, new double[3], new double[] {0, 0.15, 0.1}, true, 0x5EEDL), null, null);
    assertNotEquals(1f, device.scales()[1], "rescaled");
  }

  @Test
  void dellaOnShortRowsAndARowOfOne() {
    for (long[] shape : new long[][] {{50, 7}, {20, 1}, {513}}) {
      PlannedTensor tensor = randomTensor(shape, new Sparsification(Sparsification.Kind.RANKED_RANDOM,
          new double[] {1, 0.4, 0.5}, new double[3], new double[] {0, 0.2, 0.3}, true, 5), null, null);
      ByteBuffer[] inputs = randomInputs(random, tensor);
      assertSame(TensorStatistics.of(tensor, inputs), onTheEmulatedGpu(tensor, inputs), Arrays.toString(shape));
    }
  }

  @Test
  void sceSelectsByVarianceAndWeighsByMeanSquares() {
    TensorStatistics device = check(null, new SceMerge.SceSelection(0.3), null);
    assertNotEquals(0, device.varianceCut(), "a variance cut was made");
  }

  @Test
  void sceKeepingEverythingStillWeighs() {
    check(null, new SceMerge.SceSelection(1), null);
  }

  @Test
  void inMergekitsArithmetic() {
    check(new Sparsification(Sparsification.Kind.MAGNITUDE_OUTLIERS, new double[] {1, 0.5, 0.4},
        new double[] {0, 0.01, 0.05}, new double[3], true, 0), null, DType.BF16);
    check(new Sparsification(Sparsification.Kind.RANDOM, new double[] {1, 0.5, 0.7}, new double[3], new double[3],
        true, 99), null, DType.BF16);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ties-d05-nonorm", "breadcrumbs", "breadcrumbs_ties", "dare_ties", "dare_linear", "sce",
      "della", "della_linear",
      "ties-d05-nonorm.bf16", "dare_linear.bf16", "sce.bf16"})
  void theOraclesCases(String name) throws Exception {
    MergeConfig config = MergeConfig.load(MergekitOracleTest.config(name, dir)).withRandomSeed(11);
    Arithmetic arithmetic = name.endsWith(".bf16") ? Arithmetic.MERGEKIT : Arithmetic.EXACT;
    try (MergePlan plan = MergePlanner.plan(config, arithmetic)) {
      int compared = 0;
      for (PlannedTensor tensor : plan.tensors()) {
        if (ORACLE_TENSORS.contains(tensor.name())) {
          ByteBuffer[] mapped = tensor.inputs().stream().map(i -> plan.map(i).order(ByteOrder.LITTLE_ENDIAN))
              .toArray(ByteBuffer[]::new);
          assertSame(TensorStatistics.of(tensor, mapped), onTheEmulatedGpu(tensor, mapped), tensor.name());
          compared++;
        }
      }
      assertEquals(ORACLE_TENSORS.size(), compared, "tensors compared");
    }
  }

  /** Statistics of a fresh random tensor of {@link #TWO_BLOCKS}, on the host and the emulated GPU. */
  private TensorStatistics check(Sparsification sparsification, SceMerge.SceSelection sce, DType rounding) {
    return check(TWO_BLOCKS, sparsification, sce, rounding);
  }

  /** Statistics of a fresh random tensor of {@code shape}, two blocks, on the host and the emulated GPU. */
  private TensorStatistics check(long[] shape, Sparsification sparsification, SceMerge.SceSelection sce,
      DType rounding) {
    PlannedTensor tensor = randomTensor(shape, sparsification, sce, rounding);
    assertEquals(2, TensorBlocks.of(tensor).count(), "blocks");
    ByteBuffer[] inputs = randomInputs(random, tensor);
    TensorStatistics host = TensorStatistics.of(tensor, inputs);
    TensorStatistics device = onTheEmulatedGpu(tensor, inputs);
    assertSame(host, device, tensor.name());
    return device;
  }

  /** A tensor of {@code shape} over a base and two models of different dtypes. */
  static PlannedTensor randomTensor(long[] shape, Sparsification sparsification, SceMerge.SceSelection sce,
      DType rounding) {
    List<TensorInfo> infos = new ArrayList<>();
    for (int m = 0; m < TYPES.length; m++) {
      infos.add(new TensorInfo("model.layers.0.mlp.up_proj.weight", TYPES[m], shape,
          Path.of("m" + m + ".safetensors"), 0, TensorInfo.elementCount(shape) * TYPES[m].byteSize()));
    }
    return new PlannedTensor(infos.get(0).name(), shape, infos, new float[] {0, 0.4f, 0.6f}, true, DType.BF16, true,
        1f, true, sparsification, sce).withRounding(rounding);
  }

  /** Fresh inputs for {@code tensor}. */
  static ByteBuffer[] randomInputs(Random random, PlannedTensor tensor) {
    ByteBuffer[] inputs = new ByteBuffer[TYPES.length];
    for (int m = 0; m < TYPES.length; m++) {
      inputs[m] = input(random, TYPES[m], (int) tensor.elementCount(), m == 0 ? 0 : 0.01f * m);
    }
    return inputs;
  }

  private TensorStatistics onTheEmulatedGpu(PlannedTensor tensor, ByteBuffer[] inputs) {
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    long[] keepBits = keepBits(gpu, tensor);
    TensorStatistics statistics = DeviceStatistics.of(tensor, upload(gpu, inputs), keepBits, gpu, workspace(gpu));
    if (ResidentInputs.keepBitBytes(tensor) > 0) {
      // DELLA's draws on the device, bit for bit the host's (which the host's statistics keep as masks).
      TensorStatistics host = TensorStatistics.of(tensor, inputs);
      int words = (int) KeepMask.wordBytes(tensor.elementCount());
      for (int m = 1; m < inputs.length; m++) {
        ByteBuffer hostBits = ByteBuffer.allocate(words);
        if (host.keepMasks()[m] != null) {
          host.keepMasks()[m].copyBits(0, tensor.elementCount(), hostBits);
        }
        byte[] deviceBits = keepBits[m] == 0 ? new byte[words] : gpu.bytes(keepBits[m], words);
        assertArrayEquals(hostBits.array(), deviceBits, tensor.name() + ": DELLA's keep bits of input " + m);
      }
    }
    return statistics;
  }

  /** Per input, room for DELLA's keep bits where the tensor has them (poisoned: the passes must zero it), else 0. */
  static long[] keepBits(EmulatedGpu gpu, PlannedTensor tensor) {
    long[] keepBits = new long[tensor.inputs().size()];
    long bytes = ResidentInputs.keepBitBytes(tensor);
    for (int m = 1; m < keepBits.length && bytes > 0; m++) {
      keepBits[m] = gpu.poisoned(bytes);
    }
    return keepBits;
  }

  private static long[] upload(EmulatedGpu gpu, ByteBuffer[] inputs) {
    long[] addresses = new long[inputs.length];
    for (int m = 0; m < inputs.length; m++) {
      byte[] bytes = new byte[inputs[m].remaining()];
      inputs[m].duplicate().get(bytes);
      addresses[m] = gpu.upload(bytes);
    }
    return addresses;
  }

  /** The emulated GPU's memory as the passes use it: fresh zeroed buffers, read back whole. */
  static DeviceStatistics.Workspace workspace(EmulatedGpu gpu) {
    return new DeviceStatistics.Workspace() {
      @Override
      public long zeroed(long bytes) {
        return gpu.upload(new byte[Math.toIntExact(bytes)]);
      }

      @Override
      public ByteBuffer read(long address, long bytes) {
        return ByteBuffer.wrap(gpu.bytes(address, Math.toIntExact(bytes))).order(ByteOrder.LITTLE_ENDIAN);
      }

      @Override
      public void zero(long address, long bytes) {
        gpu.fill(address, Math.toIntExact(bytes), (byte) 0);
      }
    };
  }

  /** Every statistic the element op reads, equal. */
  static void assertSame(TensorStatistics host, TensorStatistics device, String tensor) {
    assertArrayEquals(host.cuts().keepFrom(), device.cuts().keepFrom(), tensor + ": cuts from");
    assertArrayEquals(host.cuts().keepTo(), device.cuts().keepTo(), tensor + ": cuts to");
    assertArrayEquals(host.scales(), device.scales(), tensor + ": scales");
    assertArrayEquals(host.weights(), device.weights(), tensor + ": weights");
    assertEquals(host.varianceCut(), device.varianceCut(), tensor + ": variance cut");
  }

  /**
   * Gaussian values, the model's own shifted by {@code shift} so the task vectors differ from model to model; a few
   * equal magnitudes, zeros and negative zeros; and a few huge and tiny ones, so that float64 sums are not exact and
   * their order shows.
   */
  private static ByteBuffer input(Random random, DType type, int count, float shift) {
    ByteBuffer b = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      float value = switch (i % 101) {
        case 7 -> 0.5f;
        case 41 -> 0f;
        case 83 -> -0f;
        case 13 -> (float) random.nextGaussian() * 1e4f;
        case 29 -> (float) random.nextGaussian() * 1e-6f;
        default -> (float) random.nextGaussian() * 0.1f + shift;
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
