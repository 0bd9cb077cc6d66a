package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench merge --method` on checkpoints of the tiny model's shape: the fields a script reads (no timing bounds). */
class BenchMergeCommandTest {
  @TempDir Path dir;

  @Test
  void timesEachMethodAgainstLinearOverTheSameCheckpoints() throws Exception {
    CliRun run = CliRun.of("bench", "merge", "--model-config", Fixtures.A.resolve("config.json").toString(),
        "--work-dir", dir.toString(), "--devices", "cpu", "--method", "ties,della", "--method", "sce", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    JsonNode merges = result.get("merges");
    assertEquals(4, merges.size(), run.out());
    assertEquals("linear", merges.get(0).get("method").asText());
    double linear = merges.get(0).get("seconds").asDouble();
    for (int i = 1; i < 4; i++) {
      JsonNode timed = merges.get(i);
      assertEquals(new String[] {"ties", "della", "sce"}[i - 1], timed.get("method").asText());
      assertEquals(timed.get("seconds").asDouble() / linear, timed.get("ratio_to_linear").asDouble(), 1e-9);
      assertTrue(timed.get("ratio_to_floor").asDouble() > 0, run.out());
    }
  }

  @Test
  void anUnknownMethodIsAUserError() {
    CliRun run = CliRun.of("bench", "merge", "--model-config", Fixtures.A.resolve("config.json").toString(),
        "--work-dir", dir.toString(), "--devices", "cpu", "--method", "tise");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("ties"), run.err());
  }
}
