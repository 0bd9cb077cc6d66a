package dev.amalgam.eval;

import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Exact-match accuracy: each question's prompt (through the chat template, with an optional system prompt, when
 * {@code chat}) completed greedily, its answer extracted ({@link Answers}) and compared with the expected one; and,
 * with a {@code format} regex, the fraction of completions that match it (the answer-format half of a reward).
 * Both with a 95% Wilson interval.
 */
public final class ExactMatch {
  /** A proportion over {@code n} with its 95% Wilson interval. */
  public record Rate(long hits, long n, double value, double low, double high) {
    static Rate of(long hits, long n) {
      if (n == 0) {
        return new Rate(0, 0, Double.NaN, Double.NaN, Double.NaN);
      }
      double z = 1.959963984540054;
      double p = (double) hits / n;
      double denominator = 1 + z * z / n;
      double center = (p + z * z / (2.0 * n)) / denominator;
      double half = z * Math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denominator;
      // At 0 or n hits the interval's end is exactly 0 or 1 (the formula leaves rounding dust there).
      return new Rate(hits, n, p, hits == 0 ? 0 : Math.max(0, center - half), hits == n ? 1 : Math.min(1, center + half));
    }
  }

  /** Accuracy, format (null without a format regex), the completions, tokens generated, and time. */
  public record Result(Rate accuracy, Rate format, List<String> completions, long generatedTokens, double seconds) {}

  /** How to ask: the chat template or raw prompts, a system prompt, completion length, batch size. */
  public record Options(boolean chat, String system, int maxNewTokens, int batchSize) {}

  private ExactMatch() {}

  public static Result measure(LanguageModel model, List<EvalData.Question> questions, Answers answers,
      Pattern format, Options options) {
    long start = System.nanoTime();
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      String prompt = questions.get(i).prompt();
      int[] ids = model.encode(options.chat() ? model.chatPrompt(options.system(), prompt) : prompt);
      requests.add(model.request(ids, GenerationSettings.greedy(options.maxNewTokens()), "question " + (i + 1)));
    }
    List<GenerationResult> results = model.generateAll(requests, options.batchSize(), (r, i) -> {}).results();
    return score(questions, results.stream().map(GenerationResult::text).toList(), answers, format,
        results.stream().mapToLong(r -> r.tokens().length).sum(), (System.nanoTime() - start) / 1e9);
  }

  /** Scores completions against the questions (also for completions made elsewhere, as the tests do). */
  static Result score(List<EvalData.Question> questions, List<String> completions, Answers answers, Pattern format,
      long generatedTokens, double seconds) {
    long correct = 0;
    long formatted = 0;
    for (int i = 0; i < questions.size(); i++) {
      String completion = completions.get(i);
      String expected = questions.get(i).answer();
      if (answers.extract(completion).map(a -> Answers.same(expected, a)).orElse(false)) {
        correct++;
      }
      if (format != null && format.matcher(completion).find()) {
        formatted++;
      }
    }
    long n = questions.size();
    return new Result(Rate.of(correct, n), format == null ? null : Rate.of(formatted, n), completions,
        generatedTokens, seconds);
  }
}
