package dev.amalgam.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The regular expressions a {@code tokenizer.json} runs over every prompt (its normalizer's and pre-tokenizer's),
 * checked before the tokenizer library sees them. A pattern that repeats a repetition, such as {@code (a+)+$},
 * backtracks exponentially on some inputs; the library then panics inside native code and the JVM aborts. Real
 * tokenizers' patterns never nest repetitions, so such a pattern is refused when the tokenizer loads.
 */
final class TokenizerPatterns {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerPatterns() {}

  /** Throws a user error naming the first pattern of {@code file} that nests an unbounded repetition. */
  static void checkSafe(Path file) {
    for (String pattern : patterns(file)) {
      if (nestsRepetition(pattern)) {
        throw new UserError(file + ": the pattern `" + shorten(pattern) + "` repeats a repetition (like (a+)+), "
            + "which can take exponential time on some prompts; amalgam refuses such tokenizers");
      }
    }
  }

  /** The {@code Regex} strings under the top-level normalizer and pre_tokenizer, without reading the vocabulary. */
  private static List<String> patterns(Path file) {
    List<String> found = new ArrayList<>();
    try (JsonParser parser = new JsonFactory().createParser(file.toFile())) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return found;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        parser.nextToken();
        if (field.equals("normalizer") || field.equals("pre_tokenizer")) {
          collect(JSON.readTree(parser), found);
        } else {
          parser.skipChildren();
        }
      }
    } catch (IOException e) {
      throw new UserError(file + " is not a valid tokenizer file: " + TokenizerConfig.firstLine(e.getMessage()), e);
    }
    return found;
  }

  private static void collect(JsonNode node, List<String> found) {
    if (node == null) {
      return;
    }
    if (node.isObject() && node.path("Regex").isTextual()) {
      found.add(node.get("Regex").asText());
    }
    node.forEach(child -> collect(child, found));
  }

  /**
   * Whether a group that contains an unbounded quantifier ({@code +}, {@code *}, {@code {n,}}) is itself followed
   * by one. Escapes and character classes are skipped; bounded repetitions such as {@code {2,4}} are safe.
   */
  static boolean nestsRepetition(String pattern) {
    Deque<boolean[]> groups = new ArrayDeque<>();  // per open group: whether it contains an unbounded quantifier
    boolean[] top = {false};
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '[') {
        i = classEnd(pattern, i);
      } else if (c == '(') {
        groups.push(top);
        top = new boolean[] {false};
      } else if (c == ')' && !groups.isEmpty()) {
        boolean inner = top[0];
        top = groups.pop();
        int after = unboundedQuantifierAt(pattern, i + 1);
        if (after > 0 && inner) {
          return true;
        }
        top[0] |= inner || after > 0;
      } else if (unboundedQuantifierAt(pattern, i) > 0) {
        top[0] = true;
      }
    }
    return false;
  }

  /** The length of an unbounded quantifier starting at {@code i} ({@code +}, {@code *}, {@code {n,}}), or 0. */
  private static int unboundedQuantifierAt(String p, int i) {
    if (i >= p.length()) {
      return 0;
    }
    char c = p.charAt(i);
    if (c == '+' || c == '*') {
      return 1;
    }
    if (c == '{') {
      int close = p.indexOf('}', i);
      if (close > 0 && p.substring(i + 1, close).matches("\\d*,")) {
        return close - i + 1;
      }
    }
    return 0;
  }

  private static int classEnd(String p, int open) {
    int i = open + 1;
    if (i < p.length() && p.charAt(i) == '^') {
      i++;
    }
    if (i < p.length() && p.charAt(i) == ']') {
      i++;  // a leading ] is a literal
    }
    for (; i < p.length(); i++) {
      if (p.charAt(i) == '\\') {
        i++;
      } else if (p.charAt(i) == ']') {
        return i;
      }
    }
    return p.length();
  }

  private static String shorten(String pattern) {
    return pattern.length() > 80 ? pattern.substring(0, 80) + "..." : pattern;
  }
}
