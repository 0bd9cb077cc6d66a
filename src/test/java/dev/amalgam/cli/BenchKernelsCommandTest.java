package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bench kernels on the CPU at the tiny model's shape, with tiny sizes: every op timed, and the arithmetic. */
class BenchKernelsCommandTest {
  private static final String TINY = Fixtures.A.resolve("config.json").toString();

  private static CliRun bench(String... extra) {
    List<String> args = new ArrayList<>(List.of("bench", "kernels", "--config", TINY, "--device", "cpu",
        "--bandwidth-buffer", "8M", "--calls", "2"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void jsonTimesEveryOpOfEachPhaseAgainstItsCeiling() throws Exception {
    CliRun run = bench("--batch", "1,3", "--context", "20", "--prefill", "24", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode r = new ObjectMapper().readTree(run.out());
    assertEquals("kernels", r.get("benchmark").asText());
    assertTrue(r.get("device").asText().startsWith("cpu"), r.get("device").asText());
    double bandwidth = r.get("ceilings").get("memory_bandwidth_gb_s").asDouble();
    double matmul = r.get("ceilings").get("matmul_tflop_s").asDouble();
    assertTrue(bandwidth > 0 && matmul > 0, r.get("ceilings").toString());

    List<String> seen = new ArrayList<>();
    for (JsonNode op : r.get("ops")) {
      String name = op.get("phase").asText() + " " + op.get("rows").asInt() + " " + op.get("op").asText();
      seen.add(name);
      double us = op.get("us").asDouble();
      assertTrue(us > 0, name);
      if (op.get("phase").asText().equals("decode")) {
        double gbs = op.get("gb_s").asDouble();
        assertEquals(op.get("bytes").asDouble() / us / 1e3, gbs, gbs * 1e-9, name);
        assertEquals(gbs / bandwidth, op.get("of_bandwidth").asDouble(), 1e-9, name);
      } else {
        double tflops = op.get("tflop_s").asDouble();
        assertEquals(op.get("flops").asDouble() / us / 1e6, tflops, tflops * 1e-9, name);
        assertEquals(tflops / matmul, op.get("of_matmul").asDouble(), 1e-9, name);
      }
    }
    List<String> expected = new ArrayList<>();
    for (int rows : new int[] {1, 3}) {
      for (String op : List.of("qkv", "o", "gate_up_silu", "down", "lm_head", "sample", "add_rms_norm", "rope_attention")) {
        expected.add("decode " + rows + " " + op);
      }
    }
    for (String op : List.of("qkv", "o", "gate_up_silu", "down", "rope_attention")) {
      expected.add("prefill 24 " + op);
    }
    assertEquals(expected, seen);
  }

  @Test
  void theLmHeadOfOneRowReadsTheWholeFloat32Table() throws Exception {
    CliRun run = bench("--batch", "1", "--context", "4", "--prefill", "0", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode r = new ObjectMapper().readTree(run.out());
    JsonNode config = new ObjectMapper().readTree(new java.io.File(TINY));
    long table = config.get("vocab_size").asLong() * config.get("hidden_size").asLong();
    for (JsonNode op : r.get("ops")) {
      if (op.get("op").asText().equals("lm_head")) {
        assertEquals(4.0 * table, op.get("bytes").asDouble());
      }
    }
    assertTrue(!r.get("ceilings").has("matmul_tflop_s"), "no prefill, no matmul ceiling");
  }

  @Test
  void sizesOutsideTheModelAreUserErrors() {
    CliRun tooLong = bench("--context", "100000000");
    assertEquals(2, tooLong.exitCode());
    assertTrue(tooLong.err().contains("--context must be between 1 and the model's"), tooLong.err());
    CliRun noRows = bench("--batch", "0");
    assertEquals(2, noRows.exitCode());
    assertTrue(noRows.err().contains("--batch sizes must be at least 1"), noRows.err());
    assertTrue(!noRows.err().contains("Exception"), noRows.err());
  }
}
