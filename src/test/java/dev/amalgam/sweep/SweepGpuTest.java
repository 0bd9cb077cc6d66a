package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo sweep's points on the GPU: merged on the device (the later ones into the first one's weights, from inputs
 * kept in device memory) and evaluated there, their perplexities within the CUDA model's bf16 tolerance of the CPU's
 * float32 ones.
 */
@Tag("gpu")
class SweepGpuTest {
  @TempDir Path dir;

  @Test
  void theGpuSweepMeasuresWhatTheCpuSweepMeasures() throws Exception {
    String root = Path.of("").toAbsolutePath().toString();
    Path file = Files.writeString(dir.resolve("sweep.yml"), "merge: " + root + "/examples/linear.yml\naxes:\n"
        + "  w: [0, 0.5, 1]\nset:\n  models.0.parameters.weight: 1 - w\n  models.1.parameters.weight: w\nevaluations:\n"
        + "  perplexity: {file: " + root + "/examples/eval/prose.txt}\n");
    JsonNode cpu = sweep(file, "cpu");
    JsonNode gpu = sweep(file, "cuda");
    for (int p = 0; p < 3; p++) {
      assertEquals(p > 0, gpu.get("points").get(p).get("merged_in_place").asBoolean(), "point " + p + " in place");
      double want = cpu.get("points").get(p).get("metrics").get("perplexity.mean_nll").asDouble();
      double got = gpu.get("points").get(p).get("metrics").get("perplexity.mean_nll").asDouble();
      assertTrue(Math.abs(got - want) <= 0.05 * want, "point " + p + ": " + got + " on the GPU, " + want + " on the CPU");
    }
  }

  private JsonNode sweep(Path file, String device) throws Exception {
    CliRun run = CliRun.of("sweep", file.toString(), "--out", dir.resolve(device).toString(), "--device", device,
        "--json");
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }
}
