package dev.amalgam.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cli.CliRun;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Inputs a hostile or careless user gives, each refused as a mistake should be: exit 2, one line on stderr, no
 * stack trace, nothing written. Nodes and links are made in the test's own folder, never the system's.
 */
class HostileInputsTest {
  @TempDir Path dir;

  private CliRun merge(String yaml) throws Exception {
    Path config = TestModels.config(dir, yaml);
    return CliRun.of("merge", config.toString(), dir.resolve("out").toString());
  }

  /** Exit 2, exactly one line on stderr that contains {@code expected}, and no output folder. */
  private void assertMistake(CliRun run, String expected) throws Exception {
    assertEquals(2, run.exitCode(), run.err());
    List<String> lines = run.err().lines().toList();
    assertEquals(1, lines.size(), "one line on stderr, not:\n" + run.err());
    assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(expected), run.err());
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().contains("out")), "output written");
    }
  }

  @Test
  void aDateIsNotAWeight() throws Exception {
    assertMistake(merge(TestModels.models("2001-12-14", "0.7") + "merge_method: linear\n"), "must be a finite number");
  }

  @Test
  void aDuplicateKeyIsAnError() throws Exception {
    assertMistake(merge(TestModels.models("0.3", "0.7") + "merge_method: linear\nmerge_method: linear\n"), "duplicate key");
  }

  @Test
  void aConfigThatContainsItselfIsRefused() throws Exception {
    assertMistake(merge("models: &m [{model: a, parameters: {weight: *m}}]\nmerge_method: linear\n"),
        "contains itself");
  }

  @Test
  void aFilterMustBeText() throws Exception {
    String rules = "[{filter: [mlp], value: 0.5}, {value: 0.3}]";
    assertMistake(merge(TestModels.models(rules, "0.7") + "merge_method: linear\n"), "filter must be text");
  }

  @Test
  void weightsWhoseSumOverflowsAreRefused() throws Exception {
    assertMistake(merge(TestModels.models("3e38", "3e38") + "merge_method: linear\n"), "sum to Infinity");
  }

  @Test
  void aConfigFullOfCommentsIsBounded() throws Exception {
    String comments = ("# " + "x".repeat(1000) + "\n").repeat(1100);
    assertMistake(merge(TestModels.models("0.3", "0.7") + "merge_method: linear\n" + comments), "over 1 MiB");
  }

  @Test
  void aPipeIsNotAConfig() throws Exception {
    Path fifo = fifo("config.yml");
    assertMistake(CliRun.of("merge", fifo.toString(), dir.resolve("out").toString()), "not a regular file");
  }

  @Test
  void messagesFromAPipeAreRefusedNotAwaited() throws Exception {
    Path fifo = fifo("messages.json");
    assertMistake(CliRun.of("template", Fixtures.A.toString(), "--messages", fifo.toString()), "not a regular file");
  }

  @Test
  void aPromptFileThatIsNotUtf8IsAMistake() throws Exception {
    Path prompt = Files.write(dir.resolve("prompt.txt"), new byte[] {'h', 'i', (byte) 0xC3, (byte) 0x28});
    assertMistake(CliRun.of("generate", Fixtures.A.toString(), "--prompt-file", prompt.toString(), "--device", "cpu"),
        "not UTF-8");
  }

  @Test
  void aBrokenConfigJsonIsOneLine() throws Exception {
    Path model = TestModels.derive(Fixtures.A, dir.resolve("model"), t -> {}, cfg -> cfg);
    Files.writeString(model.resolve("config.json"), "{\"hidden_size\": 64,\n  oops}");
    CliRun run = CliRun.of("inspect", model.toString());
    assertEquals(2, run.exitCode(), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
    assertTrue(run.err().contains("not valid JSON at line 2"), run.err());
  }

  private Path fifo(String name) throws Exception {
    Path fifo = dir.resolve(name);
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    return fifo;
  }

  @Test
  void badOptionValuesAreOneLineThatSaysWhereHelpIs() throws Exception {
    Path config = TestModels.config(dir, TestModels.models("0.3", "0.7") + "merge_method: linear\n");
    String out = dir.resolve("out").toString();
    assertMistake(CliRun.of("merge", config.toString(), out, "--threads", "many"), "try 'amalgam merge --help'");
    assertMistake(CliRun.of("merge", config.toString(), out, "--threads", "-1"), "--threads must be between");
    assertMistake(CliRun.of("merge", config.toString(), out, "--out-shard-size", "99999999999999999999B"),
        "over 1 exabyte");
  }

  /** config.json values the forward pass would get silently wrong, each refused when the model loads. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "num_hidden_layers: 1.5 | num_hidden_layers` must be an integer",
      "num_hidden_layers: 0 | num_hidden_layers` must be an integer",
      "num_attention_heads: 0 | num_attention_heads` must be an integer",
      "rope_theta: 0 | rope_theta` must be a number above 0",
      "rope_theta: -1 | rope_theta` must be a number above 0",
      "rope_theta: 1e309 | rope_theta` must be a number above 0",
      "rope_theta: \"NaN\" | rope_theta` must be a number above 0",
      "rms_norm_eps: -1 | rms_norm_eps` must be a number above 0",
      "eos_token_id: [\"x\"] | eos_token_id` must be token ids",
      "vocab_size: -5 | vocab_size` must be an integer"})
  void aConfigJsonValueOutOfItsRangeIsRefused(String setting, String expected) throws Exception {
    String key = setting.substring(0, setting.indexOf(':'));
    String value = setting.substring(setting.indexOf(':') + 1).trim();
    // The demo models keep rope_theta in rope_parameters, as transformers 5 writes it.
    Path model = TestModels.derive(Fixtures.A, dir.resolve("model"), t -> {}, cfg -> {
      ((com.fasterxml.jackson.databind.node.ObjectNode) (key.equals("rope_theta") ? cfg.get("rope_parameters") : cfg))
          .set(key, parseJson(value));
      return cfg;
    });
    assertMistake(CliRun.of("generate", model.toString(), "--prompt", "x", "--device", "cpu"), expected);
  }

  @Test
  void moreLayersThanConfigJsonSaysIsRefused() throws Exception {
    Path model = TestModels.derive(Fixtures.A, dir.resolve("model"), t -> {},
        cfg -> cfg.put("num_hidden_layers", cfg.get("num_hidden_layers").asInt() - 1));
    assertMistake(CliRun.of("generate", model.toString(), "--prompt", "x", "--device", "cpu"),
        "but config.json says num_hidden_layers");
  }

  @Test
  void aTokenPastTheModelsVocabularyIsRefused() throws Exception {
    int vocab = 40;
    Path model = TestModels.derive(Fixtures.A, dir.resolve("model"), tensors -> tensors.replaceAll((name, t) ->
        name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight") ? rows(t, vocab) : t),
        cfg -> cfg.put("vocab_size", vocab));
    assertMistake(CliRun.of("generate", model.toString(), "--prompt", "The smith kept", "--device", "cpu"),
        "does not belong to this model");
  }

  @Test
  void generationLimitsAreBoundedNotCrashed() throws Exception {
    CliRun huge = CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--max-new-tokens", "2147483647",
        "--device", "cpu", "--json");
    assertEquals(0, huge.exitCode(), huge.err());
    assertTrue(huge.out().contains("\"finish_reason\""), huge.out());
    assertMistake(CliRun.of("generate", Fixtures.A.toString(), "--prompt", "x", "--temperature", "1e-45",
        "--device", "cpu"), "temperature must be 0 (greedy) or from");
  }

  private static com.fasterxml.jackson.databind.JsonNode parseJson(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The first {@code rows} rows of a [vocab, hidden] table. */
  private static dev.amalgam.tensor.HostTensor rows(dev.amalgam.tensor.HostTensor t, int rows) {
    long[] shape = {rows, t.shape()[1]};
    int bytes = Math.toIntExact(rows * t.shape()[1] * t.dtype().byteSize());
    java.nio.ByteBuffer data = t.data().duplicate().limit(bytes).slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    return new dev.amalgam.tensor.HostTensor(t.name(), t.dtype(), shape, data);
  }

  /** Before the check, the tokenizer library panicked in native code on this prompt and the JVM aborted. */
  @Test
  void aTokenizerPatternThatBacktracksExponentiallyIsRefused() throws Exception {
    Path model = TestModels.derive(Fixtures.A, dir.resolve("model"), t -> {}, cfg -> cfg);
    Path tokenizer = model.resolve("tokenizer.json");
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var root = json.readTree(tokenizer.toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) root.at("/pre_tokenizer/pretokenizers/0/pattern"))
        .put("Regex", "(a+)+$");
    json.writeValue(tokenizer.toFile(), root);
    assertMistake(CliRun.of("generate", model.toString(), "--prompt", "a".repeat(40) + "b", "--device", "cpu"),
        "repeats a repetition");
  }

  @Test
  void aNulByteInAPathIsAMistake() throws Exception {
    assertMistake(merge("models:\n  - model: \"a\\0b\"\n    parameters: {weight: 1}\nmerge_method: linear\n"),
        "is not a valid path");
    Path model = Files.createDirectory(dir.resolve("model"));
    try (Stream<Path> files = Files.list(Fixtures.B_SHARDED)) {
      for (Path f : files.toList()) {
        Files.copy(f, model.resolve(f.getFileName()));
      }
    }
    Path index = model.resolve("model.safetensors.index.json");
    Files.writeString(index, Files.readString(index).replaceFirst("model-00001-of-00007", "model-0000\\\\u0000"));
    CliRun run = CliRun.of("inspect", model.toString());
    assertEquals(2, run.exitCode(), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }

  @Test
  void aRandomModelLargerThanTheDiskIsRefusedBeforeWriting() throws Exception {
    String config = Files.readString(Fixtures.A.resolve("config.json"));
    Path huge = Files.writeString(dir.resolve("huge.json"), config.replace("\"num_hidden_layers\": 4",
        "\"num_hidden_layers\": 100000").replace("\"hidden_size\": 128", "\"hidden_size\": 8192")
        .replace("\"intermediate_size\": 352", "\"intermediate_size\": 32768"));
    assertMistake(CliRun.of("random-model", "--config", huge.toString(), dir.resolve("out").toString()), "GB free");
    Path absurd = Files.writeString(dir.resolve("absurd.json"), config.replace("\"num_hidden_layers\": 4",
        "\"num_hidden_layers\": 1e9"));
    assertMistake(CliRun.of("random-model", "--config", absurd.toString(), dir.resolve("out").toString()),
        "must be an integer from 1 to 100000");
  }

  /** Finite weights whose products overflow: the merge is written, and the tensors with infinities are named. */
  @Test
  void nonFiniteOutputElementsAreReported() throws Exception {
    Path config = TestModels.config(dir, TestModels.models("3e38", "-1e38") + "merge_method: linear\nparameters: {normalize: false}\n");
    CliRun run = CliRun.of("merge", config.toString(), dir.resolve("out").toString(), "--json", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().startsWith("warning: ") && run.err().contains("weighted sums that overflow"), run.err());
    var summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.out());
    assertTrue(summary.get("non_finite_elements").path("model.norm.weight").asLong() > 0, run.out());
    assertEquals(0, summary.get("non_finite_inputs").size(), run.out());
  }

  /** A NaN in an input shows in the output: the warning says it came from the input. */
  @Test
  void aNanInAnInputIsNamedAsSuch() throws Exception {
    Path model = TestModels.derive(Fixtures.A, dir.resolve("a"), tensors -> tensors.computeIfPresent(
        "model.norm.weight", (name, t) -> {
          java.nio.ByteBuffer data =
              java.nio.ByteBuffer.allocate(t.data().capacity()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
          data.put(t.data().duplicate()).flip();
          data.putShort(0, (short) 0x7FC0);  // a bf16 NaN
          return new dev.amalgam.tensor.HostTensor(name, t.dtype(), t.shape(), data);
        }), cfg -> cfg);
    Path config = TestModels.config(dir, "models:\n  - model: " + TestModels.abs(model)
        + "\n    parameters: {weight: 0.3}\n  - model: " + TestModels.abs(Fixtures.B)
        + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    CliRun run = CliRun.of("merge", config.toString(), dir.resolve("out").toString(), "--json", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().contains("model.norm.weight (1, NaN or infinite in an input)"), run.err());
    assertTrue(run.out().contains("\"non_finite_inputs\":[\"model.norm.weight\"]"), run.out());
  }

  /** A prompt piped from an endless source (as from /dev/zero) stops at the bound instead of filling the heap. */
  @Test
  void anEndlessPromptOnStandardInputIsBounded() throws Exception {
    Path zeros = dir.resolve("zeros");
    try (var out = Files.newOutputStream(zeros)) {
      byte[] block = new byte[1 << 20];
      for (int i = 0; i < 17; i++) {
        out.write(block);
      }
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    Process generate = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "dev.amalgam.cli.Main", "generate", Fixtures.A.toString(), "--device", "cpu")
        .redirectInput(zeros.toFile()).redirectErrorStream(true).start();
    String output = new String(generate.getInputStream().readAllBytes());
    assertEquals(2, generate.waitFor(), output);
    assertTrue(output.contains("the prompt on standard input is over 16 MiB"), output);
  }
}
