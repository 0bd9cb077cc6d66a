package dev.amalgam.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.amalgam.config.MergeConfig;
import dev.amalgam.merge.MergeMethods;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The config `bench merge --method` times each method with is one the planner accepts. */
class MergeBenchmarkConfigTest {
  @TempDir Path dir;

  static Iterable<String> methods() {
    return MergeMethods.names();
  }

  @ParameterizedTest
  @MethodSource("methods")
  void everyMethodsBenchConfigPlans(String method) throws Exception {
    Files.createSymbolicLink(dir.resolve("a"), Fixtures.A.toAbsolutePath());
    Files.createSymbolicLink(dir.resolve("b"), Fixtures.B.toAbsolutePath());
    Files.createSymbolicLink(dir.resolve("base"), Fixtures.BASE.toAbsolutePath());
    Path file = dir.resolve(method + ".yml");
    Files.writeString(file, MergeBenchmark.methodConfig(method));
    try (MergePlan plan = MergePlanner.plan(MergeConfig.load(file))) {
      assertEquals(method, plan.method().name());
      assertFalse(plan.tensors().isEmpty());
    }
  }
}
