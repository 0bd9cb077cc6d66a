package dev.amalgam.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.UserError;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.cli.CliRun;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.model.Golden;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Perplexity against HF transformers' golden logits; answer extraction and scoring; data errors; the command. */
class EvalTest {
  @TempDir Path dir;

  /** The golden prompt 2 of model a: its mean NLL from the golden float32 logits, to 1e-5 relative. */
  @Test
  void perplexityIsTheNllOfTheGoldenLogits() throws Exception {
    String prompt = Fixtures.generationGolden().get("prompts").get(2).asText();
    Golden golden = Golden.of("a");
    int[] ids = golden.ints("p2.ids");
    float[] logits = golden.floats("p2.logits");
    int vocab = logits.length / ids.length;
    double total = 0;
    for (int i = 0; i + 1 < ids.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < vocab; v++) {
        max = Math.max(max, logits[i * vocab + v]);
      }
      double sum = 0;
      for (int v = 0; v < vocab; v++) {
        sum += Math.exp(logits[i * vocab + v] - max);
      }
      total += max + Math.log(sum) - logits[i * vocab + ids[i + 1]];
    }
    double expected = total / (ids.length - 1);
    try (CpuBackend backend = new CpuBackend(); LanguageModel model = LanguageModel.open(backend, Fixtures.A)) {
      assertArrayEquals(ids, model.encode(prompt));
      Perplexity.Result r = Perplexity.measure(model, List.of(prompt), 1024, 512);
      assertEquals(ids.length - 1, r.tokens());
      assertEquals(expected, r.meanNll(), 1e-5 * expected);
      assertEquals(Math.exp(r.meanNll()), r.perplexity(), 1e-12);
      // Windows shorter than the text score every token once, each with less context.
      Perplexity.Result windowed = Perplexity.measure(model, List.of(prompt), 3, 2);
      assertEquals(ids.length - 1, windowed.tokens());
    }
  }

  /** The prose model picks the continuations of the text it learned; an option's score is its tokens' NLL. */
  @Test
  void multipleChoiceByLogLikelihood() {
    try (CpuBackend backend = new CpuBackend(); LanguageModel model = LanguageModel.open(backend, Fixtures.A)) {
      List<EvalData.ChoiceQuestion> prose = EvalData.choices(Path.of("examples/eval/choices.jsonl")).subList(0, 3);
      Choice.Result r = Choice.measure(model, prose);
      assertArrayEquals(new int[] {0, 1, 2}, r.chosen());
      assertEquals(3, r.accuracy().hits());
      int[] context = model.encode("Melted together they made");
      int[] whole = model.encode("Melted together they made bronze");
      double[] nll = model.tokenNll(whole);
      double expected = 0;
      for (int j = context.length; j < whole.length; j++) {
        expected -= nll[j - 1];
      }
      assertEquals(expected, Choice.logLikelihood(model, context, whole), 1e-12);
    }
  }

  @Test
  void answersAreExtractedAndComparedAsNumbers() {
    Answers lastNumber = Answers.of("last_number");
    assertEquals(Optional.of("-1234.5"), lastNumber.extract("so 12, then -1,234.5."));
    assertEquals(Optional.empty(), lastNumber.extract("no digits"));
    assertEquals(Optional.of("x^{2}+1"), Answers.of("boxed").extract("\\boxed{1} then \\boxed{x^{2}+1} done"));
    assertEquals(Optional.of("42"), Answers.of("regex:= (\\d+)").extract("7 = 40, 5 = 42"));
    assertTrue(Answers.same("7", "7.0"));
    assertTrue(Answers.same("1,000", "1000"));
    assertTrue(Answers.same(" tin ", "tin"));
    assertFalse(Answers.same("7", "8"));
    assertThrows(UserError.class, () -> Answers.of("first_word"));
  }

  /** Hand-made completions: 2 of 4 right (a 95% Wilson interval of [0.150, 0.850]), 2 of 4 in format. */
  @Test
  void exactMatchAndFormatAreScoredWithIntervals() {
    List<EvalData.Question> questions = List.of(new EvalData.Question("1 + 1 =", "2"),
        new EvalData.Question("2 + 2 =", "4"), new EvalData.Question("3 + 3 =", "6"),
        new EvalData.Question("4 + 4 =", "8"));
    List<String> completions = List.of("<think>easy</think> \\boxed{2}", "<think></think> \\boxed{5}",
        "\\boxed{6.0}", "<think>hm</think> four");
    ExactMatch.Result r = ExactMatch.score(questions, completions, Answers.of("boxed"),
        Pattern.compile("</think>.*\\\\boxed\\{", Pattern.DOTALL), 0, 0);
    assertEquals(2, r.accuracy().hits());
    assertEquals(0.5, r.accuracy().value());
    assertEquals(0.150, r.accuracy().low(), 1e-3);
    assertEquals(0.850, r.accuracy().high(), 1e-3);
    assertEquals(2, r.format().hits());
  }

  @Test
  void aBadDataLineIsAnErrorNamingFileAndLine() throws Exception {
    Path file = Files.writeString(dir.resolve("q.jsonl"), "{\"prompt\": \"a\", \"answer\": 1}\n\n{\"prompt\": 3}\n");
    UserError e = assertThrows(UserError.class, () -> EvalData.questions(file));
    assertTrue(e.getMessage().contains("q.jsonl line 3") && e.getMessage().contains("prompt"), e.getMessage());
    Path broken = Files.writeString(dir.resolve("t.jsonl"), "{\"text\": \"ok\"}\n{not json\n");
    UserError e2 = assertThrows(UserError.class, () -> EvalData.texts(broken));
    assertTrue(e2.getMessage().contains("t.jsonl line 2"), e2.getMessage());
    Path choice = Files.writeString(dir.resolve("c.jsonl"), "{\"prompt\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 2}\n");
    UserError e3 = assertThrows(UserError.class, () -> EvalData.choices(choice));
    assertTrue(e3.getMessage().contains("c.jsonl line 1") && e3.getMessage().contains("answer"), e3.getMessage());
  }

  /** A merge config with all the weight on one model evaluates exactly as that model does. */
  @Test
  void aMergeOfOneModelScoresAsThatModel() throws Exception {
    Path config = TestModels.config(dir, TestModels.models("0", "1") + "merge_method: linear\ndtype: float32\n");
    JsonNode merged = eval(config.toString());
    JsonNode b = eval(Fixtures.B.toString());
    assertEquals(b.get("perplexity").get("mean_nll"), merged.get("perplexity").get("mean_nll"));
    assertEquals(b.get("exact_match").get("accuracy"), merged.get("exact_match").get("accuracy"));
    assertEquals(24, b.get("exact_match").get("questions").asInt());
  }

  @Test
  void theCommandRefusesBadUsageBeforeLoading() {
    CliRun none = CliRun.of("eval", Fixtures.B.toString());
    assertEquals(2, none.exitCode());
    assertTrue(none.err().contains("nothing to evaluate"), none.err());
    CliRun stride = CliRun.of("eval", Fixtures.B.toString(), "--perplexity", "examples/eval/prose.txt",
        "--context", "4", "--stride", "9");
    assertEquals(2, stride.exitCode());
  }

  private static JsonNode eval(String model) throws Exception {
    CliRun run = CliRun.of("eval", model, "--perplexity", "examples/eval/prose.txt", "--questions",
        "examples/eval/sums.jsonl", "--answer", "regex:^\\s*(-?\\d+)", "--max-new-tokens", "6", "--device", "cpu",
        "--json");
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }
}
