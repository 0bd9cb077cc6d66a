package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.merge.MergeMethods;
import org.junit.jupiter.api.Test;

/** `amalgam methods`: every registered method, with the parameters and defaults the methods declare. */
class MethodsCommandTest {
  @Test
  void listsEveryMethodWithItsDeclaredParameters() throws Exception {
    CliRun run = CliRun.of("methods", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode methods = new ObjectMapper().readTree(run.out());
    assertEquals(MergeMethods.names().size(), methods.size());
    JsonNode della = find(methods, "della");
    assertEquals("required", della.get("base_model").asText());
    assertTrue(della.get("random").asBoolean());
    JsonNode epsilon = find(della.get("parameters"), "epsilon");
    assertEquals("model", epsilon.get("scope").asText());
    assertEquals(0.15, epsilon.get("default").asDouble());
    assertTrue(find(della.get("parameters"), "weight").get("required").asBoolean());
    assertEquals("optional", find(methods, "linear").get("base_model").asText());
    for (JsonNode p : find(methods, "sce").get("parameters")) {
      assertEquals("global", p.get("scope").asText(), "sce takes no per-model parameter");
    }
  }

  @Test
  void oneMethodInText() {
    CliRun run = CliRun.of("methods", "ties");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("density      per model default 1.0"), run.out());
  }

  @Test
  void anUnknownMethodIsAUserErrorWithASuggestion() {
    CliRun run = CliRun.of("methods", "dare_tie");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("dare_ties"), run.err());
  }

  private static JsonNode find(JsonNode array, String name) {
    for (JsonNode node : array) {
      if (node.get("name").asText().equals(name)) {
        return node;
      }
    }
    throw new AssertionError(name + " not listed");
  }
}
