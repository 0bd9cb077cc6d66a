package dev.amalgam.chat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * jinja2's text filters beyond the first set, with its semantics: center, wordcount, truncate, striptags,
 * urlencode, filesizeformat, format and wordwrap.
 */
final class TextFilters {
  private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern COMMENT = Pattern.compile("<!--.*?-->", Pattern.DOTALL);
  private static final Pattern TAG = Pattern.compile("<.*?>", Pattern.DOTALL);
  private static final Pattern ENTITY = Pattern.compile("&(#[0-9]+|#[xX][0-9a-fA-F]+|amp|lt|gt|quot|apos|nbsp);");
  private static final Pattern CHUNK = Pattern.compile("\\s+|\\S+");
  private static final Pattern HYPHENATED_CHUNK =
      Pattern.compile("\\s+|\\S+?(?:(?<=[^\\d\\W]{2}-)(?=[^\\d\\W])|(?=\\s|\\z))", Pattern.UNICODE_CHARACTER_CLASS);
  /** jinja2's default truncate.leeway policy. */
  private static final long TRUNCATE_LEEWAY = 5;

  private TextFilters() {}

  static void register() {
    Filters.register((r, v, a) -> {
      long width = a.integer(0, "width", 80);
      a.done();
      RenderLimits.checkChars(width, a.line());
      String s = Py.str(v);
      int length = s.codePointCount(0, s.length());
      if (width <= length) return s;
      // Python's str.center: the odd space goes left when the width is odd.
      long margin = width - length;
      long left = margin / 2 + (margin & width & 1);
      return " ".repeat((int) left) + s + " ".repeat((int) (margin - left));
    }, "center");
    Filters.register((r, v, a) -> {
      a.done();
      Matcher m = WORD.matcher(Py.str(v));
      long n = 0;
      while (m.find()) {
        n++;
      }
      return n;
    }, "wordcount");
    Filters.register(TextFilters::truncate, "truncate");
    Filters.register((r, v, a) -> {
      a.done();
      String text = TAG.matcher(COMMENT.matcher(Py.str(v)).replaceAll("")).replaceAll("");
      return unescape(String.join(" ", text.trim().isEmpty() ? new String[0] : text.trim().split("\\s+")));
    }, "striptags");
    Filters.register((r, v, a) -> {
      a.done();
      if (v instanceof String s) {
        return quote(s, false);
      }
      List<Object> pairs = v instanceof Map<?, ?> map ? new ArrayList<>(map.entrySet().stream()
          .map(e -> (Object) PyTuple.of(e.getKey(), e.getValue())).toList()) : Py.iterate(v, a.line());
      List<String> parts = new ArrayList<>();
      for (Object pair : pairs) {
        List<?> kv = (List<?>) pair;
        parts.add(quote(Py.str(kv.get(0)), true) + "=" + quote(Py.str(kv.get(1)), true));
      }
      return String.join("&", parts);
    }, "urlencode");
    Filters.register((r, v, a) -> {
      boolean binary = a.bool(0, "binary", false);
      a.done();
      double bytes = Py.asDouble(v);
      int base = binary ? 1024 : 1000;
      String[] prefixes = binary ? new String[] {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
          : new String[] {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
      if (bytes == 1) return "1 Byte";
      if (bytes < base) return (long) bytes + " Bytes";
      double unit = 0;
      for (int i = 0; i < prefixes.length; i++) {
        unit = Math.pow(base, i + 2);
        if (bytes < unit || i == prefixes.length - 1) {
          return PyFormat.percent("%.1f", base * bytes / unit, a.line()) + " " + prefixes[i];
        }
      }
      throw new IllegalStateException("unreachable");
    }, "filesizeformat");
    Filters.register((r, v, a) -> {
      List<Object> positional = new ArrayList<>();
      for (int i = 0; ; i++) {
        Object x = a.get(i, "__arg" + i, Py.MISSING);
        if (x == Py.MISSING) break;
        positional.add(x);
      }
      Map<String, Object> keywords = a.keywords();
      if (!positional.isEmpty() && !keywords.isEmpty()) {
        throw a.error("can't handle positional and keyword arguments at the same time");
      }
      return PyFormat.percent(Py.str(v), keywords.isEmpty() ? new PyTuple(positional)
          : new LinkedHashMap<Object, Object>(keywords), a.line());
    }, "format");
    Filters.register(TextFilters::wordwrap, "wordwrap");
  }

  /** jinja2's do_truncate. */
  private static Object truncate(Renderer r, Object v, Args a) {
    long length = a.integer(0, "length", 255);
    boolean killwords = a.bool(1, "killwords", false);
    String end = a.string(2, "end", "...", false);
    Object leewayArg = a.get(3, "leeway", null);
    a.done();
    long leeway = leewayArg == null ? TRUNCATE_LEEWAY : Py.asLong(leewayArg);
    if (length < end.length()) throw a.error("expected length >= " + end.length() + ", got " + length);
    if (leeway < 0) throw a.error("expected leeway >= 0, got " + leeway);
    String s = Py.str(v);
    if (s.length() <= length + leeway) return s;
    String head = s.substring(0, (int) (length - end.length()));
    if (killwords) return head + end;
    int space = head.lastIndexOf(' ');
    return (space < 0 ? head : head.substring(0, space)) + end;
  }

  /**
   * jinja2's do_wordwrap over Python's textwrap (no tab expansion, whitespace kept, long words broken, breaks after
   * hyphens): each line of the text wrapped on its own, the lines joined by {@code wrapstring}.
   */
  private static Object wordwrap(Renderer r, Object v, Args a) {
    long width = a.integer(0, "width", 79);
    boolean breakLong = a.bool(1, "break_long_words", true);
    String wrap = a.string(2, "wrapstring", "\n", true);
    boolean breakOnHyphens = a.bool(3, "break_on_hyphens", true);
    a.done();
    if (width <= 0) throw a.error("invalid width " + width + " (must be > 0)");
    List<String> out = new ArrayList<>();
    String text = Py.str(v);
    String[] lines = text.split("\r\n|\r|\n", -1);
    // Python's splitlines: no empty line after a final line break.
    int count = text.isEmpty() ? 0 : lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
    String separator = wrap == null ? "\n" : wrap;
    for (int i = 0; i < count; i++) {
      out.add(String.join(separator, wrapLine(lines[i], (int) width, breakLong, breakOnHyphens)));
    }
    return String.join(separator, out);
  }

  /**
   * textwrap's wrap of one line, as jinja2 calls it: chunks of whitespace and of words (split after a hyphen between
   * letters when breaking on hyphens), filled greedily; whitespace dropped at the ends of lines after the first;
   * words longer than the width broken where {@code breakLong}.
   */
  private static List<String> wrapLine(String text, int width, boolean breakLong, boolean breakOnHyphens) {
    List<String> chunks = new ArrayList<>();
    Matcher m = (breakOnHyphens ? HYPHENATED_CHUNK : CHUNK).matcher(text);
    while (m.find()) {
      chunks.add(m.group());
    }
    List<String> lines = new ArrayList<>();
    int i = 0;
    while (i < chunks.size()) {
      if (!lines.isEmpty() && chunks.get(i).isBlank()) {
        i++;
        continue;
      }
      List<String> line = new ArrayList<>();
      int length = 0;
      while (i < chunks.size() && length + chunks.get(i).length() <= width) {
        length += chunks.get(i).length();
        line.add(chunks.get(i++));
      }
      if (i < chunks.size() && chunks.get(i).length() > width) {
        String chunk = chunks.get(i);
        if (breakLong) {
          int end = Math.max(1, width - length);
          line.add(chunk.substring(0, end));
          chunks.set(i, chunk.substring(end));
        } else if (line.isEmpty()) {
          line.add(chunk);
          i++;
        }
      }
      if (!line.isEmpty() && line.get(line.size() - 1).isBlank()) {
        line.remove(line.size() - 1);
      }
      if (!line.isEmpty()) {
        lines.add(String.join("", line));
      }
    }
    return lines;
  }

  /** Python's urllib quote of the UTF-8 bytes: letters, digits and _.-~ as they are (and '/' unless in a query). */
  private static String quote(String s, boolean query) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (Character.isLetterOrDigit(c) && c < 0x80 || "_.-~".indexOf(c) >= 0 || c == '/' && !query) {
        sb.append((char) c);
      } else if (c == ' ' && query) {
        sb.append('+');
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  /** Python's html.unescape for the entities striptags meets. */
  private static String unescape(String s) {
    Matcher m = ENTITY.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String name = m.group(1);
      String text = switch (name) {
        case "amp" -> "&";
        case "lt" -> "<";
        case "gt" -> ">";
        case "quot" -> "\"";
        case "apos" -> "'";
        case "nbsp" -> "\u00a0";
        default -> new String(Character.toChars(name.charAt(1) == 'x' || name.charAt(1) == 'X'
            ? Integer.parseInt(name.substring(2), 16) : Integer.parseInt(name.substring(1))));
      };
      m.appendReplacement(sb, Matcher.quoteReplacement(text));
    }
    m.appendTail(sb);
    return sb.toString();
  }
}
