package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** random-model writes what the model loader expects, reproducibly; inspect describes it. */
class RandomModelAndInspectTest {
  @TempDir Path tmp;

  private CliRun random(String out, long seed) {
    return CliRun.of("random-model", "--config", Fixtures.A.resolve("config.json").toString(), tmp.resolve(out).toString(),
        "--seed", Long.toString(seed), "--json");
  }

  @Test
  void sameSeedSameBytesAndTheModelLoads() throws Exception {
    assertEquals(0, random("r1", 7).exitCode());
    assertEquals(0, random("r2", 7).exitCode());
    assertEquals(0, random("r3", 8).exitCode());
    Path r1 = tmp.resolve("r1/model.safetensors");
    assertEquals(-1L, Files.mismatch(r1, tmp.resolve("r2/model.safetensors")));
    assertNotEquals(-1L, Files.mismatch(r1, tmp.resolve("r3/model.safetensors")));
    try (ModelDirectory dir = ModelDirectory.open(tmp.resolve("r1"));
        CpuBackend backend = new CpuBackend();
        Transformer loaded = Transformer.load(backend, dir.config(), WeightSource.of(dir))) {
      assertEquals(51, dir.tensors().size(), "every tensor the loader checked by shape, and no other");
    }
  }

  @Test
  void inspectReportsParametersDtypesAndShards() throws Exception {
    CliRun run = CliRun.of("inspect", Fixtures.B_SHARDED.toString(), "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode info = new ObjectMapper().readTree(run.out());
    assertEquals("Qwen2ForCausalLM", info.get("architecture").asText());
    assertEquals(858496, info.get("parameters").asLong());
    assertEquals(7, info.get("shards").asInt());
    assertEquals(858496, info.get("dtypes").get("BF16").asLong());
    assertEquals(51, info.get("tensors").size());
    CliRun text = CliRun.of("inspect", Fixtures.A.toString());
    assertTrue(text.out().contains("858,496"), text.out());
  }

  @Test
  void inspectOfAMissingFolderIsAUserError() {
    CliRun run = CliRun.of("inspect", tmp.resolve("nothing").toString());
    assertTrue(run.isCleanUserError(), run.err());
  }

  @Test
  void unsupportedArchitectureIsRefusedBeforeWriting() throws Exception {
    Path config = tmp.resolve("config.json");
    Files.writeString(config, Files.readString(Fixtures.A.resolve("config.json"))
        .replace("Qwen2ForCausalLM", "GPT2LMHeadModel"));
    CliRun run = CliRun.of("random-model", "--config", config.toString(), tmp.resolve("x").toString());
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(!Files.exists(tmp.resolve("x")));
  }
}
