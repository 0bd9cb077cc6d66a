package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** bench serve times both sides in one run and prints their numbers as JSON; bad sizes are user errors. */
class BenchServeCommandTest {
  @Test
  void timesTheServerAndTheGeneratorSideBySide() throws Exception {
    CliRun run = CliRun.of("bench", "serve", "--clients", "3", "--tokens", "4", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode report = new ObjectMapper().readTree(run.out());
    for (String side : new String[] {"generator", "server"}) {
      assertTrue(report.get(side).get("tokens_per_second").asDouble() > 0, run.out());
      assertTrue(report.get(side).get("ttft_p99_ms").asDouble() >= report.get(side).get("ttft_p50_ms").asDouble());
    }
    assertEquals(report.get("server").get("seconds").asDouble() / report.get("generator").get("seconds").asDouble()
        - 1, report.get("throughput_overhead").asDouble(), 1e-9);
  }

  @Test
  void badSizesAreUserErrors() {
    assertTrue(CliRun.of("bench", "serve", "--clients", "0").isCleanUserError());
  }
}
