package dev.amalgam.chat;

import dev.amalgam.chat.Token.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into tokens exactly as jinja2's lexer does with the settings transformers uses
 * ({@code trim_blocks=True, lstrip_blocks=True}, default delimiters, {@code keep_trailing_newline=False}).
 * All whitespace control happens here, so the parser and renderer never see the stripped text.
 */
final class Lexer {
  // jinja2's own regular expressions (lexer.py), kept verbatim so that edge cases agree.
  private static final Pattern FLOAT =
      Pattern.compile("(?<!\\.)(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?[eE][+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)");
  private static final Pattern INTEGER = Pattern.compile(
      "(0[bB](_?[0-1])+|0[oO](_?[0-7])+|0[xX](_?[\\da-fA-F])+|[1-9](_?\\d)*|0(_?0)*)");
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern STRING =
      Pattern.compile("('([^'\\\\]*(?:\\\\.[^'\\\\]*)*)'|\"([^\"\\\\]*(?:\\\\.[^\"\\\\]*)*)\")", Pattern.DOTALL);
  // jinja2's raw_begin (matched right after "{%" and its sign) and its raw-state end rule.
  private static final Pattern RAW_BEGIN = Pattern.compile("\\s*raw\\s*(?:-%}\\s*|%})");
  private static final Pattern RAW_END =
      Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(?:\\+%}|-%}\\s*|%}\\n?)", Pattern.DOTALL);
  /** Longest first, as jinja2 sorts them. */
  private static final String[] OPERATORS = {
    "//", "**", "==", "!=", ">=", "<=",
    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"
  };

  private final String src;
  private final int[] lineStarts;
  private final List<Token> tokens = new ArrayList<>();
  private int pos;

  private Lexer(String source) {
    this.src = normalize(source);
    List<Integer> starts = new ArrayList<>();
    starts.add(0);
    for (int i = 0; i < src.length(); i++) {
      if (src.charAt(i) == '\n') {
        starts.add(i + 1);
      }
    }
    lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
  }

  static List<Token> tokenize(String source) {
    Lexer lexer = new Lexer(source);
    lexer.run();
    return lexer.tokens;
  }

  /** jinja2 turns every \r\n, \r and \n into \n and drops one trailing newline of the template source. */
  private static String normalize(String source) {
    String s = source.replace("\r\n", "\n").replace('\r', '\n');
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }

  private int lineAt(int offset) {
    int lo = 0;
    int hi = lineStarts.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (lineStarts[mid] <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo + 1;
  }

  private void run() {
    int n = src.length();
    while (pos < n) {
      int tag = nextTagStart(pos);
      if (tag < 0) {
        emitText(src.substring(pos), pos);
        pos = n;
        break;
      }
      // jinja2's "line_starting": the previous match ended a line (or this is the template's start).
      boolean lineStarting = pos == 0 || src.charAt(pos - 1) == '\n';
      String text = src.substring(pos, tag);
      char kind = src.charAt(tag + 1);
      int after = tag + 2;
      char sign = 0;
      if (after < n && (src.charAt(after) == '-' || src.charAt(after) == '+')) {
        sign = src.charAt(after);
        after++;
      }
      if (sign == '-') {
        text = Py.rstrip(text, null);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: drop spaces/tabs between the start of the line and a block or comment tag.
        int lineStart = text.lastIndexOf('\n') + 1;
        if ((lineStart > 0 || lineStarting) && lineStart < text.length() && Py.isAllSpace(text, lineStart)) {
          text = text.substring(0, lineStart);
        }
      }
      emitText(text, pos);
      pos = after;
      Matcher raw = kind == '%' ? match(RAW_BEGIN) : null;
      if (raw != null) {
        pos = raw.end();
        lexRawBody(tag);
        continue;
      }
      if (kind == '#') {
        skipComment(tag);
      } else {
        tokens.add(new Token(kind == '%' ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, kind == '%' ? "{%" : "{{", lineAt(tag)));
        lexTag(kind == '%', tag);
      }
    }
    tokens.add(new Token(Type.EOF, "", lineAt(src.length())));
  }

  /**
   * {@code {% raw %}...{% endraw %}}: the body is text, tags and all. The closing tag gets the same
   * whitespace control as any block tag ('-', '+', lstrip_blocks before it, trim_blocks after it).
   */
  private void lexRawBody(int tagStart) {
    Matcher end = RAW_END.matcher(src);
    if (!end.find(pos)) {
      throw new TemplateError("missing {% endraw %} for the raw block opened here", lineAt(tagStart));
    }
    String text = src.substring(pos, end.start());
    String sign = end.group(1);
    if (sign.equals("-")) {
      text = Py.rstrip(text, null);
    } else if (!sign.equals("+")) {
      boolean lineStarting = pos == 0 || src.charAt(pos - 1) == '\n';
      int lineStart = text.lastIndexOf('\n') + 1;
      if ((lineStart > 0 || lineStarting) && lineStart < text.length() && Py.isAllSpace(text, lineStart)) {
        text = text.substring(0, lineStart);
      }
    }
    emitText(text, pos);
    pos = end.end();
  }

  private int nextTagStart(int from) {
    int i = src.indexOf('{', from);
    while (i >= 0 && i + 1 < src.length()) {
      char c = src.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
      i = src.indexOf('{', i + 1);
    }
    return -1;
  }

  private void emitText(String text, int offset) {
    if (!text.isEmpty()) {
      tokens.add(new Token(Type.TEXT, text, lineAt(offset)));
    }
  }

  private void skipComment(int tagStart) {
    int end = src.indexOf("#}", pos);
    if (end < 0) {
      throw new TemplateError("missing end of comment tag", lineAt(tagStart));
    }
    char sign = end - 1 >= pos ? src.charAt(end - 1) : 0;
    pos = end + 2;
    afterTagEnd(sign, true);
  }

  /** Whitespace control after a closing delimiter: '-' eats all whitespace, trim_blocks one newline. */
  private void afterTagEnd(char sign, boolean trimBlocks) {
    if (sign == '-') {
      while (pos < src.length() && Py.isSpace(src.charAt(pos))) {
        pos++;
      }
    } else if (sign != '+' && trimBlocks && pos < src.length() && src.charAt(pos) == '\n') {
      pos++;
    }
  }

  private void lexTag(boolean block, int tagStart) {
    Deque<Character> balance = new ArrayDeque<>();
    int n = src.length();
    while (true) {
      if (pos >= n) {
        throw new TemplateError("unexpected end of template: the tag opened here is never closed", lineAt(tagStart));
      }
      int line = lineAt(pos);
      if (balance.isEmpty() && closeTag(block, line)) {
        return;
      }
      char c = src.charAt(pos);
      if (Py.isSpace(c)) {
        pos++;
        continue;
      }
      Matcher m;
      if ((m = match(FLOAT)) != null) {
        tokens.add(new Token(Type.FLOAT, m.group().replace("_", ""), line));
      } else if ((m = match(INTEGER)) != null) {
        tokens.add(new Token(Type.INTEGER, m.group().replace("_", ""), line));
      } else if ((m = match(NAME)) != null) {
        tokens.add(new Token(Type.NAME, m.group(), line));
      } else if ((m = match(STRING)) != null) {
        String body = m.group().substring(1, m.group().length() - 1);
        tokens.add(new Token(Type.STRING, unescape(body, line), line));
      } else {
        String op = operatorAt();
        if (op == null) {
          throw new TemplateError("unexpected character '" + c + "' inside a tag", line);
        }
        balanceCheck(op, balance, line);
        tokens.add(new Token(Type.OPERATOR, op, line));
        pos += op.length();
        continue;
      }
      pos = m.end();
    }
  }

  private boolean closeTag(boolean block, int line) {
    if (block) {
      if (src.startsWith("-%}", pos) || src.startsWith("+%}", pos)) {
        char sign = src.charAt(pos);
        pos += 3;
        tokens.add(new Token(Type.BLOCK_END, "%}", line));
        afterTagEnd(sign, true);
        return true;
      }
      if (src.startsWith("%}", pos)) {
        pos += 2;
        tokens.add(new Token(Type.BLOCK_END, "%}", line));
        afterTagEnd((char) 0, true);
        return true;
      }
    } else {
      if (src.startsWith("-}}", pos)) {
        pos += 3;
        tokens.add(new Token(Type.VAR_END, "}}", line));
        afterTagEnd('-', false);
        return true;
      }
      if (src.startsWith("}}", pos)) {
        pos += 2;
        tokens.add(new Token(Type.VAR_END, "}}", line));
        return true;
      }
    }
    return false;
  }

  private Matcher match(Pattern p) {
    Matcher m = p.matcher(src);
    m.region(pos, src.length());
    m.useTransparentBounds(true);
    m.useAnchoringBounds(false);
    return m.lookingAt() ? m : null;
  }

  private String operatorAt() {
    for (String op : OPERATORS) {
      if (src.startsWith(op, pos)) {
        return op;
      }
    }
    return null;
  }

  private static void balanceCheck(String op, Deque<Character> balance, int line) {
    switch (op) {
      case "(": balance.push(')'); break;
      case "[": balance.push(']'); break;
      case "{": balance.push('}'); break;
      case ")":
      case "]":
      case "}":
        if (balance.isEmpty()) {
          throw new TemplateError("unexpected '" + op + "'", line);
        }
        char expected = balance.pop();
        if (expected != op.charAt(0)) {
          throw new TemplateError("unexpected '" + op + "', expected '" + expected + "'", line);
        }
        break;
      default:
        break;
    }
  }

  /**
   * Python's unicode-escape decoding of a string literal's body, which is what jinja2 applies
   * (after normalising newlines). Unknown escapes such as {@code \d} stay as written.
   */
  static String unescape(String body, int line) {
    if (body.indexOf('\\') < 0) {
      return body;
    }
    StringBuilder out = new StringBuilder(body.length());
    int i = 0;
    while (i < body.length()) {
      char c = body.charAt(i);
      if (c != '\\' || i + 1 >= body.length()) {
        out.append(c);
        i++;
        continue;
      }
      char e = body.charAt(i + 1);
      i += 2;
      switch (e) {
        case '\n': break;
        case '\\': out.append('\\'); break;
        case '\'': out.append('\''); break;
        case '"': out.append('"'); break;
        case 'a': out.append('\u0007'); break;
        case 'b': out.append('\b'); break;
        case 'f': out.append('\f'); break;
        case 'n': out.append('\n'); break;
        case 'r': out.append('\r'); break;
        case 't': out.append('\t'); break;
        case 'v': out.append('\u000b'); break;
        case 'x': i = hexEscape(body, i, 2, out, line); break;
        case 'u': i = hexEscape(body, i, 4, out, line); break;
        case 'U': i = hexEscape(body, i, 8, out, line); break;
        case 'N': {
          int close = body.indexOf('}', i);
          if (i >= body.length() || body.charAt(i) != '{' || close < 0) {
            throw new TemplateError("malformed \\N{...} escape in a string literal", line);
          }
          String name = body.substring(i + 1, close);
          try {
            out.appendCodePoint(Character.codePointOf(name));
          } catch (IllegalArgumentException ex) {
            throw new TemplateError("unknown Unicode character name \\N{" + name + "}", line);
          }
          i = close + 1;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int value = e - '0';
            int digits = 1;
            while (digits < 3 && i < body.length() && body.charAt(i) >= '0' && body.charAt(i) <= '7') {
              value = value * 8 + (body.charAt(i++) - '0');
              digits++;
            }
            out.appendCodePoint(value);
          } else {
            out.append('\\').append(e);
          }
      }
    }
    return out.toString();
  }

  private static int hexEscape(String body, int i, int digits, StringBuilder out, int line) {
    if (i + digits > body.length()) {
      throw new TemplateError("truncated \\x/\\u/\\U escape in a string literal", line);
    }
    String hex = body.substring(i, i + digits);
    try {
      int cp = Integer.parseUnsignedInt(hex, 16);
      out.appendCodePoint(cp);
    } catch (IllegalArgumentException ex) {
      throw new TemplateError("malformed escape in a string literal: " + hex, line);
    }
    return i + digits;
  }
}
