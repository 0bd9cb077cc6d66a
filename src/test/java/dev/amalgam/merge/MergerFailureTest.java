package dev.amalgam.merge;

import static dev.amalgam.testing.TestModels.abs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.config.MergeConfig;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A merge that fails halfway leaves neither the output nor its staging folder behind. */
class MergerFailureTest {
  @TempDir Path tmp;

  @Test
  void failureHalfwayLeavesNothingBehind() throws Exception {
    String yaml = "models:\n  - model: " + abs(Fixtures.A) + "\n    parameters: {weight: 0.3}\n"
        + "  - model: " + abs(Fixtures.B) + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n";
    MergeConfig config = MergeConfig.parse(TestModels.config(tmp, yaml), yaml);
    RuntimeException diskFull = new RuntimeException("disk full");
    MergeEngine failingHalfway = new MergeEngine() {
      @Override
      public String device() {
        return "test";
      }

      @Override
      public void run(List<PlannedTensor> tensors, TensorSource inputs, MergeOutput output, MergeProgress progress) {
        new CpuMergeEngine(1).run(tensors.subList(0, tensors.size() / 2), inputs, output, progress);
        throw diskFull;
      }
    };
    Path out = tmp.resolve("out");
    try (MergePlan plan = MergePlanner.plan(config)) {
      RuntimeException thrown = assertThrows(RuntimeException.class, () -> Merger.toDisk(plan, failingHalfway,
          new Merger.OutputOptions(out, false, Long.MAX_VALUE, true), MergeEngine.MergeProgress.NONE));
      assertSame(diskFull, thrown);
    }
    assertFalse(Files.exists(out));
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(tmp.resolve("merge.yml")), files.toList());
    }
  }
}
