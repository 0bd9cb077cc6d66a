package dev.amalgam.eval;

import dev.amalgam.UserError;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How an answer is taken out of a completion and compared: {@code last_number} (the last number in the text),
 * {@code boxed} (the content of the last LaTeX {@code \boxed{...}}, nested braces included) or a regex (its first
 * group, else the whole match, of the last match); numbers compare as numbers ({@code 7.0} is {@code 7}), anything
 * else as trimmed text.
 */
public final class Answers {
  private static final Pattern NUMBER = Pattern.compile("-?\\d[\\d,]*(?:\\.\\d+)?|-?\\.\\d+");

  private final String rule;
  private final Pattern regex;

  private Answers(String rule, Pattern regex) {
    this.rule = rule;
    this.regex = regex;
  }

  /** {@code last_number}, {@code boxed}, or {@code regex:PATTERN}. */
  public static Answers of(String rule) {
    if (rule.equals("last_number") || rule.equals("boxed")) {
      return new Answers(rule, null);
    }
    if (rule.startsWith("regex:")) {
      try {
        return new Answers("regex", Pattern.compile(rule.substring("regex:".length()), Pattern.DOTALL));
      } catch (PatternSyntaxException e) {
        throw new UserError("bad answer regex: " + e.getDescription() + " in " + rule);
      }
    }
    throw new UserError("answer extraction must be last_number, boxed or regex:PATTERN, not " + rule);
  }

  /** The answer in {@code completion}, if any. */
  public Optional<String> extract(String completion) {
    return switch (rule) {
      case "last_number" -> last(NUMBER.matcher(completion)).map(m -> m.group().replace(",", ""));
      case "boxed" -> boxed(completion);
      default -> last(regex.matcher(completion)).map(m -> m.groupCount() > 0 && m.group(1) != null ? m.group(1)
          : m.group());
    };
  }

  /** Whether an extracted answer is the expected one: as numbers where both are, else as trimmed text. */
  public static boolean same(String expected, String actual) {
    Optional<BigDecimal> a = number(expected);
    Optional<BigDecimal> b = number(actual);
    if (a.isPresent() && b.isPresent()) {
      return a.get().compareTo(b.get()) == 0;
    }
    return expected.strip().equals(actual.strip());
  }

  private static Optional<BigDecimal> number(String s) {
    try {
      return Optional.of(new BigDecimal(s.strip().replace(",", "")));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Optional<MatchResult> last(Matcher m) {
    MatchResult found = null;
    while (m.find()) {
      found = m.toMatchResult();
    }
    return Optional.ofNullable(found);
  }

  /** The content of the last {@code \boxed{...}}, its braces balanced. */
  private static Optional<String> boxed(String text) {
    int at = text.lastIndexOf("\\boxed{");
    if (at < 0) {
      return Optional.empty();
    }
    int depth = 0;
    for (int i = at + "\\boxed".length(); i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return Optional.of(text.substring(at + "\\boxed{".length(), i));
      }
    }
    return Optional.empty();
  }
}
