package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.config.MergeConfig;
import dev.amalgam.cuda.EmulatedGpu;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mergekit oracle's cases planned as a merge plans them, and a few of their tensors merged by merge.cu on the
 * CPU emulation ({@link EmulatedGpu}) the way the CUDA pipeline does it (statistics found by {@link
 * DeviceStatistics} over the resident inputs where it can, else on the host with keep bits and segment values
 * uploaded; {@link CudaMergePipeline#kernelArgs}, two chunks, the second starting inside a row), against
 * the CPU engine bit for bit: every method's element op, and mergekit's arithmetic, exercised in CI without a GPU.
 */
class EmulatedMergeTest {
  /** A 1-D tensor, a square one, and one with rows of another length. */
  private static final Set<String> TENSORS = Set.of("model.norm.weight", "model.layers.1.self_attn.k_proj.weight",
      "model.layers.0.mlp.down_proj.weight");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient", "task_arithmetic", "ties-d05-nonorm", "breadcrumbs_ties", "dare_ties",
      "della", "sce", "model_stock", "model_stock-filterwise", "slerp", "nuslerp", "nuslerp-base-rows", "multislerp",
      "karcher", "nearswap", "arcee_fusion"})
  void theKernelMergesWhatTheCpuMerges(String name) throws Exception {
    check(name, Arithmetic.EXACT);
  }

  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient.bf16", "task_arithmetic.bf16", "ties-d05-nonorm.bf16", "nearswap.bf16",
      "breadcrumbs.bf16"})
  void andSoInMergekitsArithmetic(String name) throws Exception {
    check(name, Arithmetic.MERGEKIT);
  }

  private void check(String name, Arithmetic arithmetic) throws Exception {
    MergeConfig config = MergeConfig.load(MergekitOracleTest.config(name, dir)).withRandomSeed(7);
    try (MergePlan plan = MergePlanner.plan(config, arithmetic)) {
      int compared = 0;
      for (PlannedTensor tensor : plan.tensors()) {
        if (TENSORS.contains(tensor.name())) {
          assertArrayEquals(onTheCpu(plan, tensor), onTheEmulatedGpu(plan, tensor), tensor.name());
          compared++;
        }
      }
      assertEquals(TENSORS.size(), compared, "tensors compared");
    }
  }

  private static byte[] onTheCpu(MergePlan plan, PlannedTensor tensor) {
    byte[] out = new byte[(int) tensor.outBytes()];
    new CpuMergeEngine(1).run(List.of(tensor), plan, (t, offset, bytes) -> bytes.get(0, out, (int) offset,
        bytes.remaining()), MergeEngine.MergeProgress.NONE);
    return out;
  }

  private byte[] onTheEmulatedGpu(MergePlan plan, PlannedTensor tensor) {
    EmulatedGpu gpu = EmulatedGpu.open(dir, 1);
    int n = tensor.inputs().size();
    ByteBuffer[] mapped = tensor.inputs().stream().map(i -> plan.map(i).order(ByteOrder.LITTLE_ENDIAN))
        .toArray(ByteBuffer[]::new);
    // As the pipeline does: the whole inputs on the device and the statistics found there where the GPU finds
    // them, else the statistics found on the host and each chunk's inputs (and keep bits) uploaded on their own.
    long[] resident = DeviceStatistics.supports(tensor) ? new long[n] : null;
    for (int m = 0; resident != null && m < n; m++) {
      byte[] whole = new byte[mapped[m].remaining()];
      mapped[m].duplicate().get(whole);
      resident[m] = gpu.upload(whole);
    }
    RuleStatistics ruled = tensor.rule() != null ? RuleStatistics.of(tensor, mapped) : null;
    long[] residentKeepBits = resident != null ? DeviceStatisticsEmulationTest.keepBits(gpu, tensor) : null;
    TensorStatistics statistics = resident != null
        ? DeviceStatistics.of(tensor, resident, residentKeepBits, gpu, DeviceStatisticsEmulationTest.workspace(gpu))
        : tensor.taskVectors() && ruled == null ? TensorStatistics.of(tensor, mapped) : null;
    long elements = tensor.elementCount();
    // The second chunk starts on a 32-element boundary (a keep-bit word, and 16 bytes), inside a row where the rows
    // are longer than 32.
    long split = elements / 2 / 32 * 32 + (tensor.shape().length == 2 && tensor.shape()[1] > 32 ? 32 : 0);
    int outBytes = tensor.outDType().byteSize();
    long out = gpu.poisoned(elements * outBytes);
    for (long[] chunk : new long[][] {{0, split}, {split, elements - split}}) {
      long start = chunk[0];
      long count = chunk[1];
      long[] inputs = new long[n];
      long[] keepBits = new long[n];
      for (int m = 0; m < n; m++) {
        int bytes = tensor.inputs().get(m).dtype().byteSize();
        if (resident != null) {
          inputs[m] = resident[m] + start * bytes;
          keepBits[m] = residentKeepBits[m] == 0 ? 0 : residentKeepBits[m] + start / 32 * Integer.BYTES;
          continue;
        }
        byte[] part = new byte[(int) (count * bytes)];
        mapped[m].get((int) (start * bytes), part);
        inputs[m] = gpu.upload(part);
        if (statistics != null && statistics.keepMasks()[m] != null) {
          ByteBuffer bits = ByteBuffer.allocate((int) KeepMask.wordBytes(count));
          statistics.keepMasks()[m].copyBits(start, count, bits);
          keepBits[m] = gpu.upload(bits.array());
        }
      }
      long values = 0;
      if (ruled != null && ruled.stride() > 0 && ruled.segments() != TensorRule.Segments.TENSOR) {
        int[] range = ruled.valueRange(start, count);
        values = gpu.upload(Arrays.copyOfRange(ruled.values(), range[0], range[1]));
      }
      MergeKernel.weightedSum(gpu, CudaMergePipeline.kernelArgs(tensor, statistics, ruled,
          new StagingSlot.Uploaded(inputs, keepBits, values), out + start * outBytes, start, count));
    }
    return gpu.bytes(out, (int) (elements * outBytes));
  }
}
