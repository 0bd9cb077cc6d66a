package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.model.Golden;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generate command end to end on the tiny models. */
class GenerateCommandTest {
  @TempDir Path tmp;

  private static JsonNode goldenTexts() throws Exception {
    return Fixtures.generationGolden();
  }

  @Test
  void jsonGreedyMatchesTransformers() throws Exception {
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "The smith kept", "--max-new-tokens", "48",
        "--device", "cpu", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertEquals(goldenTexts().get("a.p0.text").asText(), result.get("text").asText());
    int[] expected = Golden.of("a").ints("p0.greedy");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], result.get("tokens").get(i).asInt(), "token " + i);
    }
    assertEquals(3, result.get("prompt_tokens").asInt());
    assertTrue(result.get("ttft_ms").asDouble() > 0 && result.get("tokens_per_s").asDouble() > 0);
  }

  @Test
  void cudaGraphsTakeTrueOrFalse() {
    CliRun off = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--max-new-tokens", "2",
        "--device", "cpu", "--cuda-graphs=false", "--json");
    assertEquals(0, off.exitCode(), off.err());
    CliRun bad = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--device", "cpu",
        "--cuda-graphs=maybe");
    assertNotEquals(0, bad.exitCode());
    assertTrue(bad.err().contains("--cuda-graphs"), bad.err());
  }

  @Test
  void mergeConfigGeneratesInMemoryLikeTheMergedFolder() throws Exception {
    CliRun run = CliRun.of("generate", "examples/linear.yml", "--prompt", "The smith kept", "--max-new-tokens", "48",
        "--device", "cpu", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertEquals(goldenTexts().get("merged.p0.text").asText(), result.get("text").asText());
    int[] expected = Golden.of("merged").ints("p0.greedy");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], result.get("tokens").get(i).asInt(), "token " + i);
    }
    assertTrue(run.err().contains("in memory"), run.err());
  }

  /** Golden prompt 3 is the tiny chat template's rendering of one user message. */
  @Test
  void chatWrapsThePromptInTheModelsTemplate() throws Exception {
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--chat", "--prompt", "How much tin?",
        "--max-new-tokens", "48", "--device", "cpu", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode result = new ObjectMapper().readTree(run.out());
    assertEquals(Golden.of("a").ints("p3.ids").length, result.get("prompt_tokens").asInt());
    int[] expected = Golden.of("a").ints("p3.greedy");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], result.get("tokens").get(i).asInt(), "token " + i);
    }
  }

  @Test
  void systemWithoutChatIsAUserError() {
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--system", "Be brief.", "--prompt", "x");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("--system needs --chat"), run.err());
  }

  @Test
  void saveWritesTheMergeAsMergeWould() throws Exception {
    Path out = tmp.resolve("saved");
    CliRun run = CliRun.of("generate", "examples/linear.yml", "--prompt", "12 + 7 =", "--max-new-tokens", "8",
        "--device", "cpu", "--save", out.toString());
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(Files.mismatch(out.resolve("model.safetensors"),
        Fixtures.MERGED.resolve("model.safetensors")), -1L);
    assertTrue(Files.exists(out.resolve("mergekit_config.yml")));
  }

  @Test
  void streamsTextToStdoutAndStatsToStderr() throws Exception {
    Path prompt = tmp.resolve("prompt.txt");
    Files.writeString(prompt, "12 + 7 =");
    CliRun run = CliRun.of("generate", Fixtures.B.toString(), "--prompt-file", prompt.toString(),
        "--max-new-tokens", "48", "--stop", "\n");
    assertEquals(0, run.exitCode(), run.err());
    String full = goldenTexts().get("b.p1.text").asText();
    assertEquals(full.substring(0, full.indexOf('\n')) + "\n", run.out());
    assertTrue(run.err().contains("6 prompt tokens") && run.err().contains("(stop)"), run.err());
  }

  @Test
  void promptOverTheContextIsAUserError() {
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "When the alloy cooled, the apprentice",
        "--max-context", "4");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("context"), run.err());
  }

  @Test
  void cudaWithoutAGpuIsACleanUserErrorNamingTheReason() {
    String reason = CudaBackend.unavailableReason();
    assumeTrue(reason != null, "this machine can run the CUDA backend");
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--device", "cuda");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("--device cuda, but there is no GPU backend: " + reason), run.err());
  }

  @Test
  void autoWithoutAGpuSaysSoOnceAndGeneratesOnTheCpu() throws Exception {
    assumeTrue(CudaBackend.unavailableReason() != null, "this machine can run the CUDA backend");
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "The smith kept", "--max-new-tokens", "4",
        "--device", "auto", "--json");
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(1, run.err().split("note: no usable GPU", -1).length - 1, run.err());
    assertTrue(new ObjectMapper().readTree(run.out()).get("device").asText().startsWith("cpu"), run.out());
  }

  @Test
  void missingModelOrPromptFileAreUserErrors() {
    assertTrue(CliRun.of("generate", tmp.resolve("nope").toString(), "--prompt", "x").isCleanUserError());
    assertTrue(CliRun.of("generate", Fixtures.A.toString(), "--prompt-file", tmp.resolve("nope.txt").toString())
        .isCleanUserError());
  }

  @Test
  void badSamplingValuesAreUserErrors() {
    CliRun run = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--top-p", "1.5");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("top-p"), run.err());
  }

  /** A random merge generated from in memory is never written out: the drawn seed is printed to repeat it. */
  @Test
  void aRandomMergeInMemorySaysItsDrawnSeed() throws Exception {
    String yaml = Files.readString(Path.of("examples/methods/dare_linear.yml"))
        .replace("random_seed: 42", "")
        .replace("../qwen2-tiny-", TestModels.abs(Path.of("examples")) + "/qwen2-tiny-");
    CliRun run = CliRun.of("generate", TestModels.config(tmp, yaml).toString(), "--prompt", "x",
        "--max-new-tokens", "2", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().matches("(?s).*random seed (\\d+) drawn; add `random_seed: \\1` to the config.*"), run.err());
  }
}
