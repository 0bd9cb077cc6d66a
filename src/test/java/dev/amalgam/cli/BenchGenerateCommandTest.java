package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench generate on a random checkpoint at the tiny model's shape, with tiny sizes: fields and arithmetic. */
class BenchGenerateCommandTest {
  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void writeModel() {
    model = tmp.resolve("random-tiny");
    CliRun run = CliRun.of("random-model", "--config", Fixtures.A.resolve("config.json").toString(), model.toString(), "--json");
    assertEquals(0, run.exitCode(), run.err());
  }

  private static CliRun bench(String... extra) {
    List<String> args = new ArrayList<>(List.of("bench", "generate", "--model", model.toString(),
        "--device", "cpu", "--bandwidth-buffer", "8M"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  /** Every weight but the embedding table, in float32 as the CPU backend holds them. */
  private static long expectedStepBytes() {
    try (ModelDirectory dir = ModelDirectory.open(model)) {
      return dir.tensors().stream().filter(t -> !t.name().equals("model.embed_tokens.weight"))
          .mapToLong(t -> TensorInfo.elementCount(t.shape()) * 4).sum();
    }
  }

  @Test
  void jsonReportsEveryBatchWithPositiveRatesAndTheCeiling() throws Exception {
    CliRun run = bench("--prompt-len", "12", "--new-tokens", "5", "--batch", "1,3", "--json");
    assertEquals(0, run.exitCode(), run.err());
    JsonNode r = new ObjectMapper().readTree(run.out());
    assertEquals("generate", r.get("benchmark").asText());
    assertTrue(r.get("device").asText().startsWith("cpu"), r.get("device").asText());
    assertEquals(12, r.get("prompt_len").asInt());
    assertEquals(5, r.get("new_tokens").asInt());
    assertEquals("F32", r.get("weight_dtype").asText());
    long stepBytes = r.get("weight_bytes_per_step").asLong();
    assertEquals(expectedStepBytes(), stepBytes);
    double bandwidth = r.get("memory_bandwidth").get("gb_per_s").asDouble();
    assertTrue(bandwidth > 0 && r.get("memory_bandwidth").get("source").asText().startsWith("measured"));
    double ceiling = r.get("batch1_ceiling").get("decode_tok_s").asDouble();
    assertEquals(bandwidth * 1e9 / stepBytes, ceiling, ceiling * 1e-9);

    JsonNode runs = r.get("runs");
    assertEquals(2, runs.size());
    int[] batches = {1, 3};
    for (int i = 0; i < 2; i++) {
      JsonNode b = runs.get(i);
      assertEquals(batches[i], b.get("batch").asInt());
      for (String field : List.of("prefill_tok_s", "prefill_layer_tflop_s", "ttft_ms", "batch_ttft_ms", "decode_tok_s",
          "decode_step_ms", "decode_weight_gb_s", "decode_s")) {
        assertTrue(b.get(field).asDouble() > 0, field + " of batch " + batches[i] + ": " + b.get(field));
      }
      // The first of the five tokens of each sequence comes from its prefill.
      assertEquals(batches[i] * 4L, b.get("decode_tokens").asLong());
      assertEquals(b.get("decode_tokens").asDouble() / b.get("decode_s").asDouble(), b.get("decode_tok_s").asDouble(),
          1e-6 * b.get("decode_tok_s").asDouble());
    }
    assertEquals(runs.get(0).get("decode_tok_s").asDouble() / ceiling, r.get("batch1_ceiling").get("ratio").asDouble(),
        1e-9);
  }

  @Test
  void aStatedBandwidthReplacesTheMeasurementAndTheTableIsPrinted() {
    CliRun run = bench("--prompt-len", "12", "--new-tokens", "3", "--memory-bandwidth", "100", "--batch", "2");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("memory bandwidth 100.0 GB/s (stated"), run.out());
    String ceiling = String.format(Locale.ROOT, "batch-1 ceiling %.1f tokens/s", 100e9 / expectedStepBytes());
    assertTrue(run.out().contains(ceiling), run.out());
    assertTrue(run.out().lines().anyMatch(l -> l.trim().startsWith("2 ")), run.out());
    assertTrue(!run.out().contains("reaches"), "no batch-1 run, so no ratio: " + run.out());
  }

  @Test
  void impossibleSizesAreUserErrors() {
    assertTrue(bench("--new-tokens", "1").err().contains("--new-tokens must be at least 2"));
    CliRun tooLong = bench("--prompt-len", "1020", "--new-tokens", "5");
    assertTrue(tooLong.isCleanUserError() && tooLong.err().contains("over the model's context of 1024"), tooLong.err());
    CliRun zero = bench("--batch", "0");
    assertTrue(zero.isCleanUserError() && zero.err().contains("--batch sizes must be at least 1"), zero.err());
    CliRun noModel = CliRun.of("bench", "generate", "--model", tmp.resolve("nope").toString());
    assertTrue(noModel.isCleanUserError() && noModel.err().contains("not a model folder"), noModel.err());
  }
}
