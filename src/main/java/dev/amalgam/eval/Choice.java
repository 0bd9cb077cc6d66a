package dev.amalgam.eval;

import dev.amalgam.generate.LanguageModel;
import java.util.Arrays;
import java.util.List;

/**
 * Multiple choice by log-likelihood, as evaluation harnesses score ARC- or MMLU-style tasks: each option's tokens
 * scored after the prompt (the option's tokens being those of prompt + option beyond the prompt's own), the option
 * with the highest total log-likelihood chosen; accuracy with a 95% Wilson interval.
 */
public final class Choice {
  /** Accuracy, each question's chosen option, and time. */
  public record Result(ExactMatch.Rate accuracy, int[] chosen, double seconds) {}

  private Choice() {}

  public static Result measure(LanguageModel model, List<EvalData.ChoiceQuestion> questions) {
    long start = System.nanoTime();
    int[] chosen = new int[questions.size()];
    long correct = 0;
    for (int q = 0; q < questions.size(); q++) {
      EvalData.ChoiceQuestion question = questions.get(q);
      int[] context = model.encode(question.prompt());
      double best = Double.NEGATIVE_INFINITY;
      for (int o = 0; o < question.choices().size(); o++) {
        double logLikelihood = logLikelihood(model, context, model.encode(question.prompt() + question.choices()
            .get(o)));
        if (logLikelihood > best) {
          best = logLikelihood;
          chosen[q] = o;
        }
      }
      correct += chosen[q] == question.answer() ? 1 : 0;
    }
    return new Result(ExactMatch.Rate.of(correct, questions.size()), chosen, (System.nanoTime() - start) / 1e9);
  }

  /**
   * The log-likelihood of the tokens of {@code whole} past the prompt's: where the prompt's tokens are not a prefix
   * of the whole's (a merge across the boundary), the whole's tokens past the prompt's count.
   */
  static double logLikelihood(LanguageModel model, int[] context, int[] whole) {
    int from = Math.max(1, Math.min(context.length, whole.length - 1));
    double[] nll = model.tokenNll(whole);
    return -Arrays.stream(nll, from - 1, nll.length).sum();
  }
}
