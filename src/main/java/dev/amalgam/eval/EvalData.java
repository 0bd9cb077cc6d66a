package dev.amalgam.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluation data, read whole and checked before any model runs: a bad line is an error naming the file and line.
 * Texts for perplexity come from a plain text file (one text) or JSONL ({@code {"text": ...}} per line); questions
 * from JSONL ({@code {"prompt": ..., "answer": ...}}, the answer a string or a number).
 */
public final class EvalData {
  /** Evaluation files are read whole; the bound keeps a wrong path (a checkpoint) out of memory. */
  private static final long MAX_BYTES = 256L << 20;

  /** One question and its expected answer. */
  public record Question(String prompt, String answer) {}

  /** A multiple-choice question: its options, and the index of the right one. */
  public record ChoiceQuestion(String prompt, List<String> choices, int answer) {}

  private EvalData() {}

  public static List<String> texts(Path file) {
    String content = BoundedText.read(file, MAX_BYTES, "evaluation text");
    if (!file.toString().endsWith(".jsonl")) {
      return List.of(content);
    }
    List<String> texts = new ArrayList<>();
    forEachLine(file, content, (json, where) -> texts.add(string(json, "text", where)));
    return texts;
  }

  public static List<Question> questions(Path file) {
    List<Question> questions = new ArrayList<>();
    forEachLine(file, BoundedText.read(file, MAX_BYTES, "evaluation questions"), (json, where) -> {
      String prompt = string(json, "prompt", where);
      JsonNode answer = json.get("answer");
      if (answer == null || !(answer.isTextual() || answer.isNumber())) {
        throw new UserError(where + ": `answer` must be a string or a number");
      }
      questions.add(new Question(prompt, answer.asText()));
    });
    if (questions.isEmpty()) {
      throw new UserError(file + " holds no questions");
    }
    return questions;
  }

  /**
   * JSONL {@code {"prompt": ..., "choices": [...], "answer": INDEX or the right option's text}}, two options at
   * least.
   */
  public static List<ChoiceQuestion> choices(Path file) {
    List<ChoiceQuestion> questions = new ArrayList<>();
    forEachLine(file, BoundedText.read(file, MAX_BYTES, "evaluation choices"), (json, where) -> {
      String prompt = string(json, "prompt", where);
      JsonNode options = json.get("choices");
      if (options == null || !options.isArray() || options.size() < 2) {
        throw new UserError(where + ": `choices` must be a list of two or more strings");
      }
      List<String> choices = new ArrayList<>();
      for (JsonNode option : options) {
        if (!option.isTextual()) {
          throw new UserError(where + ": `choices` must be a list of two or more strings");
        }
        choices.add(option.asText());
      }
      JsonNode answer = json.get("answer");
      int index = -1;
      if (answer != null && answer.isIntegralNumber()) {
        index = answer.asInt();
      } else if (answer != null && answer.isTextual()) {
        index = choices.indexOf(answer.asText());
      }
      if (index < 0 || index >= choices.size()) {
        throw new UserError(where + ": `answer` must be the index of the right choice or its text");
      }
      questions.add(new ChoiceQuestion(prompt, choices, index));
    });
    if (questions.isEmpty()) {
      throw new UserError(file + " holds no questions");
    }
    return questions;
  }

  private interface LineHandler {
    void accept(JsonNode json, String where);
  }

  private static void forEachLine(Path file, String content, LineHandler handler) {
    ObjectMapper mapper = new ObjectMapper();
    String[] lines = content.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = file + " line " + (i + 1);
      JsonNode json;
      try {
        json = mapper.readTree(line);
      } catch (Exception e) {
        throw new UserError(where + ": not a JSON object (" + e.getMessage().lines().findFirst().orElse("") + ")");
      }
      if (json == null || !json.isObject()) {
        throw new UserError(where + ": not a JSON object");
      }
      handler.accept(json, where);
    }
  }

  private static String string(JsonNode json, String key, String where) {
    JsonNode node = json.get(key);
    if (node == null || !node.isTextual()) {
      throw new UserError(where + ": `" + key + "` must be a string");
    }
    return node.asText();
  }
}
