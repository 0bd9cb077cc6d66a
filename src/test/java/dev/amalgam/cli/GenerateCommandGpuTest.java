package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code amalgam generate} on the GPU: merge on the device, generate from the resident merge. */
@Tag("gpu")
class GenerateCommandGpuTest {

  private static JsonNode generate(String model, String prompt, String... extra) throws Exception {
    String[] base = {"generate", model, "--prompt", prompt, "--max-new-tokens", "48", "--device", "cuda", "--json"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    CliRun run = CliRun.of(args);
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertTrue(result.get("device").asText().startsWith("cuda:0"), run.out());
    if (model.endsWith(".yml")) {
      assertTrue(run.err().contains("in memory on the GPU"), run.err());
    }
    return result;
  }

  @Test
  void mergeConfigOnTheGpuGeneratesLikeTheMergedFolder() throws Exception {
    for (String prompt : new String[] {"The smith kept", "12 + 7 ="}) {
      JsonNode fromMerge = generate("examples/linear.yml", prompt);
      JsonNode fromFolder = generate(Fixtures.MERGED.toString(), prompt);
      assertEquals(fromFolder.get("tokens"), fromMerge.get("tokens"), prompt);
      assertTrue(fromMerge.get("tokens").size() > 0);
    }
  }

  @Test
  void seededSamplingOnTheGpuRepeats() throws Exception {
    String[] sampling = {"--temperature", "0.8", "--top-p", "0.9", "--top-k", "40", "--seed", "7"};
    JsonNode first = generate(Fixtures.A.toString(), "The smith kept", sampling);
    JsonNode second = generate(Fixtures.A.toString(), "The smith kept", sampling);
    assertEquals(first.get("tokens"), second.get("tokens"));
  }
}
