package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.TestModels;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The mergekit oracle's cases merged on the GPU: what mergekit wrote, and bit for bit what the CPU writes. */
@Tag("gpu")
class MergekitOracleGpuTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient", "linear-base-not-listed", "linear-filter-fallback", "linear-filter-star",
      "task_arithmetic", "ties-d1", "ties-d05-nonorm", "breadcrumbs", "breadcrumbs_ties", "nearswap"})
  void matchesMergekitExactlyOnTheGpu(String name) throws Exception {
    MergekitOracleTest.assertMatchesOracle(name, "cuda", dir);
  }

  /** {@code --arithmetic mergekit} on the GPU: mergekit's bf16 arithmetic, as on the CPU. */
  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient", "task_arithmetic", "ties-d1", "ties-d05-nonorm", "breadcrumbs",
      "nearswap", "passthrough"})
  void reproducesMergekitsBf16ArithmeticOnTheGpu(String name) throws Exception {
    MergekitOracleTest.assertMatchesOracle(name + ".bf16", "cuda", dir, "--arithmetic", "mergekit");
  }

  /** Every case the GPU merges, random masks included (the same seed), equal to the CPU's merge bit for bit. */
  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient", "task_arithmetic", "ties-d05-nonorm", "breadcrumbs", "breadcrumbs_ties",
      "dare_ties", "dare_linear", "dare_linear-single", "della", "della_linear", "della_linear-single", "sce",
      "model_stock", "model_stock-filterwise", "slerp", "nuslerp", "nuslerp-base-rows", "multislerp", "karcher",
      "nearswap", "arcee_fusion"})
  void theGpuMergesWhatTheCpuMerges(String name) throws Exception {
    Map<String, HostTensor> cpu = TestModels.load(
        MergekitOracleTest.merge(name, "cpu", dir.resolve("cpu"), "--random-seed", "7"));
    Map<String, HostTensor> gpu = TestModels.load(
        MergekitOracleTest.merge(name, "cuda", dir.resolve("gpu"), "--random-seed", "7"));
    assertEquals(cpu.keySet(), gpu.keySet());
    for (HostTensor t : cpu.values()) {
      assertArrayEquals(OracleValues.bytes(t.data()), OracleValues.bytes(gpu.get(t.name()).data()), t.name());
    }
  }
}
