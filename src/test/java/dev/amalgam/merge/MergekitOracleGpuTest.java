package dev.amalgam.merge;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The mergekit oracle's cases merged on the GPU: bit for bit what mergekit wrote, as on the CPU. */
@Tag("gpu")
class MergekitOracleGpuTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"linear-gradient", "linear-base-not-listed", "linear-filter-fallback", "linear-filter-star",
      "task_arithmetic", "ties-d1", "ties-d05-nonorm", "breadcrumbs", "breadcrumbs_ties"})
  void matchesMergekitExactlyOnTheGpu(String name) throws Exception {
    MergekitOracleTest.assertMatchesOracle(name, "cuda", dir);
  }
}
