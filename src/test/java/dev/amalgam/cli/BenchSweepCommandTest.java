package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `bench sweep` on checkpoints of the tiny model's shape: the fields a script reads (no timing bounds). */
class BenchSweepCommandTest {
  @TempDir Path dir;

  @Test
  void timesEachPointInPlaceAndThroughTheDisk() throws Exception {
    CliRun run = CliRun.of("bench", "sweep", "--model-config", Fixtures.A.resolve("config.json").toString(),
        "--work-dir", dir.toString(), "--device", "cpu", "--points", "2");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertEquals(2, result.get("points").size(), run.out());
    double memory = result.get("mean_in_place_s").asDouble();
    double disk = result.get("mean_merge_to_disk_and_load_s").asDouble();
    assertTrue(memory > 0 && disk > 0 && result.get("first_point_merge_and_build_s").asDouble() > 0, run.out());
    assertEquals(disk / memory, result.get("less_overhead_than_disk").asDouble(), 1e-9);
  }

  @Test
  void badPointCountsAreUserErrors() {
    CliRun run = CliRun.of("bench", "sweep", "--model-config", Fixtures.A.resolve("config.json").toString(),
        "--work-dir", dir.toString(), "--points", "0");
    assertTrue(run.isCleanUserError(), run.err());
  }
}
