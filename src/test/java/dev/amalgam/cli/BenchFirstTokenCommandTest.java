package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** `bench first-token` on the bundled merge: the fields a script reads, with sane values (no timing bounds). */
class BenchFirstTokenCommandTest {
  @Test
  void reportsMergeToFirstTokenAgainstReadingTheInputs() throws Exception {
    CliRun run = CliRun.of("bench", "first-token", "examples/linear.yml", "--prompt-len", "5", "--device", "cpu",
        "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertEquals(5, result.get("prompt_tokens").asInt());
    assertEquals(1, result.get("generated_tokens").asInt());
    double read = result.get("read_inputs_s").asDouble();
    double total = result.get("merge_to_first_token_s").asDouble();
    assertTrue(read > 0 && total > 0, run.out());
    assertEquals(total / read, result.get("ratio_to_read").asDouble(), 1e-9 * total / read);
    assertTrue(result.get("device").asText().startsWith("cpu"), run.out());
  }

  @Test
  void aMissingConfigIsAUserError() {
    CliRun run = CliRun.of("bench", "first-token", "nowhere.yml", "--device", "cpu");
    assertTrue(run.isCleanUserError(), run.err());
  }
}
