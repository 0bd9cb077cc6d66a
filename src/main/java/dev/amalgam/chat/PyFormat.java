package dev.amalgam.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's string formatting as templates reach it: {@code 'fmt' % args} (and jinja2's {@code format} filter) and
 * {@code 'fmt'.format(...)}, with Python's rounding (half to even on the exact binary value) and layout of numbers.
 * What is left out (nested replacement fields, {@code *} widths) is an error naming it.
 */
final class PyFormat {
  private PyFormat() {}

  /** The conversion of a float in str.format without a type. */
  private static final char FLOAT_DEFAULT = 1;

  /** One conversion's flags, width and precision (-1 where absent). */
  private record Spec(char fill, char align, char sign, boolean alternate, boolean zero, int width, boolean grouping,
      int precision, char type) {}

  // ---- 'fmt' % args ----

  static String percent(String format, Object args, int line) {
    List<Object> positional = args instanceof PyTuple t ? new ArrayList<>(t) : List.of(args);
    Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
    StringBuilder out = new StringBuilder();
    int next = 0;
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%') {
        out.append(c);
        continue;
      }
      if (++i >= format.length()) throw error("incomplete format", line);
      Object value = null;
      boolean named = false;
      if (format.charAt(i) == '(') {
        int close = format.indexOf(')', i);
        if (close < 0) throw error("incomplete format key", line);
        if (mapping == null) throw error("format requires a mapping", line);
        String key = format.substring(i + 1, close);
        Object found = Py.findKey(mapping, key);
        if (found == Py.MISSING) throw new TemplateError("KeyError: '" + key + "'", line);
        value = mapping.get(found);
        named = true;
        i = close + 1;
      }
      boolean left = false;
      char sign = '-';
      boolean alternate = false;
      boolean zero = false;
      for (; i < format.length() && "-+ #0".indexOf(format.charAt(i)) >= 0; i++) {
        switch (format.charAt(i)) {
          case '-' -> left = true;
          case '+' -> sign = '+';
          case ' ' -> sign = sign == '+' ? '+' : ' ';
          case '#' -> alternate = true;
          default -> zero = true;
        }
      }
      int width = 0;
      for (; i < format.length() && Character.isDigit(format.charAt(i)); i++) {
        width = width * 10 + (format.charAt(i) - '0');
      }
      int precision = -1;
      if (i < format.length() && format.charAt(i) == '.') {
        precision = 0;
        for (i++; i < format.length() && Character.isDigit(format.charAt(i)); i++) {
          precision = precision * 10 + (format.charAt(i) - '0');
        }
      }
      if (i < format.length() && format.charAt(i) == '*') {
        throw new TemplateError("'*' widths in % formatting are not supported by this renderer", line);
      }
      if (i >= format.length()) throw error("incomplete format", line);
      char type = format.charAt(i);
      if (type == '%') {
        out.append('%');
        continue;
      }
      if (!named) {
        if (next >= positional.size()) throw error("not enough arguments for format string", line);
        value = positional.get(next++);
      }
      Spec spec = new Spec(zero && !left ? '0' : ' ', left ? '<' : zero ? '=' : '>', sign, alternate, zero && !left,
          width, false, precision, type);
      out.append(convert(value, spec, true, line));
      RenderLimits.checkChars(out.length(), line);
    }
    if (mapping == null && next < positional.size()) {
      throw error("not all arguments converted during string formatting", line);
    }
    return out.toString();
  }

  // ---- 'fmt'.format(args, kwargs) ----

  static String format(String template, List<Object> args, Map<String, Object> kwargs, int line) {
    StringBuilder out = new StringBuilder();
    int auto = 0;
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (c == '}') {
        if (i + 1 < template.length() && template.charAt(i + 1) == '}') {
          out.append('}');
          i++;
          continue;
        }
        throw new TemplateError("ValueError: Single '}' encountered in format string", line);
      }
      if (c != '{') {
        out.append(c);
        continue;
      }
      if (i + 1 < template.length() && template.charAt(i + 1) == '{') {
        out.append('{');
        i++;
        continue;
      }
      int close = template.indexOf('}', i);
      if (close < 0) throw new TemplateError("ValueError: Single '{' encountered in format string", line);
      String field = template.substring(i + 1, close);
      if (field.indexOf('{') >= 0) {
        throw new TemplateError("nested replacement fields in str.format are not supported by this renderer", line);
      }
      i = close;
      String specText = "";
      int colon = field.indexOf(':');
      if (colon >= 0) {
        specText = field.substring(colon + 1);
        field = field.substring(0, colon);
      }
      char conversion = 0;
      int bang = field.indexOf('!');
      if (bang >= 0) {
        conversion = field.length() > bang + 1 ? field.charAt(bang + 1) : 0;
        field = field.substring(0, bang);
      }
      Object value;
      if (field.isEmpty()) {
        if (auto >= args.size()) throw new TemplateError("IndexError: Replacement index " + auto + " out of range", line);
        value = args.get(auto++);
      } else if (field.chars().allMatch(Character::isDigit)) {
        int index = Integer.parseInt(field);
        if (index >= args.size()) throw new TemplateError("IndexError: Replacement index " + index + " out of range",
            line);
        value = args.get(index);
      } else if (kwargs.containsKey(field)) {
        value = kwargs.get(field);
      } else {
        throw new TemplateError("KeyError: '" + field + "'", line);
      }
      if (conversion == 'r' || conversion == 'a') {
        value = Py.repr(value);
      } else if (conversion == 's') {
        value = Py.str(value);
      }
      out.append(convert(value, parseSpec(specText, value, line), false, line));
      RenderLimits.checkChars(out.length(), line);
    }
    return out.toString();
  }

  /** The format spec mini-language: [[fill]align][sign][#][0][width][,][.precision][type]. */
  private static Spec parseSpec(String s, Object value, int line) {
    int i = 0;
    char fill = ' ';
    char align = 0;
    if (s.length() >= 2 && "<>^=".indexOf(s.charAt(1)) >= 0) {
      fill = s.charAt(0);
      align = s.charAt(1);
      i = 2;
    } else if (!s.isEmpty() && "<>^=".indexOf(s.charAt(0)) >= 0) {
      align = s.charAt(0);
      i = 1;
    }
    char sign = '-';
    if (i < s.length() && "+- ".indexOf(s.charAt(i)) >= 0) {
      sign = s.charAt(i++);
    }
    boolean alternate = i < s.length() && s.charAt(i) == '#';
    if (alternate) i++;
    boolean zero = i < s.length() && s.charAt(i) == '0';
    if (zero) i++;
    int width = 0;
    for (; i < s.length() && Character.isDigit(s.charAt(i)); i++) {
      width = width * 10 + (s.charAt(i) - '0');
    }
    boolean grouping = i < s.length() && s.charAt(i) == ',';
    if (grouping) i++;
    int precision = -1;
    if (i < s.length() && s.charAt(i) == '.') {
      precision = 0;
      for (i++; i < s.length() && Character.isDigit(s.charAt(i)); i++) {
        precision = precision * 10 + (s.charAt(i) - '0');
      }
    }
    char type = i < s.length() ? s.charAt(i++) : 0;
    if (i != s.length()) throw new TemplateError("ValueError: Invalid format specifier '" + s + "'", line);
    boolean number = Py.isNumber(value) && !(value instanceof Boolean && type == 0);
    if (align == 0) {
      align = zero && number ? '=' : number ? '>' : '<';
    }
    if (zero && fill == ' ' && align == '=') {
      fill = '0';
    }
    return new Spec(fill, align, sign, alternate, zero, width, grouping, precision, type);
  }

  // ---- one conversion ----

  private static String convert(Object value, Spec spec, boolean percent, int line) {
    RenderLimits.checkChars(Math.max(spec.width(), spec.precision()), line);
    char type = spec.type();
    String body;
    boolean negative = false;
    switch (type) {
      case 's', 'r', 'a', 0 -> {
        if (type == 0 && Py.isNumber(value) && !(value instanceof Boolean)) {
          return convert(value, new Spec(spec.fill(), spec.align(), spec.sign(), spec.alternate(), spec.zero(),
              spec.width(), spec.grouping(), spec.precision(), value instanceof Double ? FLOAT_DEFAULT : 'd'), percent,
              line);
        }
        body = type == 'r' || type == 'a' ? Py.repr(value) : Py.str(value);
        if (spec.precision() >= 0 && body.length() > spec.precision()) {
          body = body.substring(0, spec.precision());
        }
        return pad(body, "", spec);
      }
      case 'c' -> {
        if (value instanceof String s) {
          body = s;
        } else {
          BigInteger code = integer(value, type, percent, line);
          if (code.signum() < 0 || code.compareTo(BigInteger.valueOf(Character.MAX_CODE_POINT)) > 0) {
            throw new TemplateError("OverflowError: %c arg not in range(0x110000)", line);
          }
          body = Character.toString(code.intValue());
        }
        return pad(body, "", spec);
      }
      case 'd', 'i', 'u', 'x', 'X', 'o', 'b', 'n' -> {
        BigInteger n = integer(value, type, percent, line);
        negative = n.signum() < 0;
        n = n.abs();
        int radix = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
        body = n.toString(radix);
        if (type == 'X') body = body.toUpperCase(Locale.ROOT);
        if (spec.grouping() && radix == 10) body = group(body);
        if (percent && spec.precision() > body.length()) body = "0".repeat(spec.precision() - body.length()) + body;
        String prefix = spec.alternate() && radix != 10 ? (radix == 16 ? "0" + type : radix == 8 ? "0o" : "0b") : "";
        return pad(body, sign(negative, spec) + prefix, spec);
      }
      case 'e', 'E', 'f', 'F', 'g', 'G', '%', FLOAT_DEFAULT -> {
        double d = real(value, line);
        negative = d < 0 || d == 0 && 1 / d < 0;
        body = floating(Math.abs(d), type, spec);
        if (spec.grouping()) {
          int dot = body.indexOf('.');
          String whole = dot < 0 ? body : body.substring(0, dot);
          if (whole.chars().allMatch(Character::isDigit)) body = group(whole) + (dot < 0 ? "" : body.substring(dot));
        }
        return pad(body, sign(negative, spec), spec);
      }
      default -> throw new TemplateError("ValueError: Unknown format code '" + type + "' for object of type '"
          + Py.typeName(value) + "'", line);
    }
  }

  private static String floating(double d, char type, Spec spec) {
    boolean upper = Character.isUpperCase(type);
    if (Double.isNaN(d)) return upper ? "NAN" : "nan";
    if (Double.isInfinite(d)) return upper ? "INF" : "inf";
    int precision = spec.precision() < 0 ? 6 : spec.precision();
    switch (Character.toLowerCase(type)) {
      case 'f':
        return fixed(d, precision, spec.alternate());
      case '%':
        return fixed(d * 100, precision, spec.alternate()) + "%";
      case 'e':
        return exponent(d, precision, upper, spec.alternate());
      default: {
        // 'g'; a float in str.format without a type is its repr, or with a precision 'g' that keeps a digit after
        // the point in fixed notation.
        if (type == FLOAT_DEFAULT && spec.precision() < 0) {
          return Py.floatRepr(d);
        }
        int p = precision == 0 ? 1 : precision;
        BigDecimal rounded = new BigDecimal(d).round(new MathContext(p, RoundingMode.HALF_EVEN));
        int exp = d == 0 ? 0 : rounded.precision() - rounded.scale() - 1;
        String text = exp >= -4 && exp < p ? fixed(d, p - 1 - exp, spec.alternate())
            : exponent(d, p - 1, upper, spec.alternate());
        text = spec.alternate() ? text : stripZeros(text);
        return type == FLOAT_DEFAULT && text.indexOf('.') < 0 && text.indexOf('e') < 0 ? text + ".0" : text;
      }
    }
  }

  private static String fixed(double d, int decimals, boolean alternate) {
    String text = new BigDecimal(d).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    return alternate && decimals == 0 ? text + "." : text;
  }

  private static String exponent(double d, int decimals, boolean upper, boolean alternate) {
    String mantissa;
    int exp;
    if (d == 0) {
      mantissa = decimals == 0 ? "0" : "0." + "0".repeat(decimals);
      exp = 0;
    } else {
      BigDecimal rounded = new BigDecimal(d).round(new MathContext(decimals + 1, RoundingMode.HALF_EVEN));
      exp = rounded.precision() - rounded.scale() - 1;
      String digits = rounded.unscaledValue().toString();
      digits = digits + "0".repeat(Math.max(0, decimals + 1 - digits.length()));
      digits = digits.substring(0, decimals + 1);
      mantissa = decimals == 0 ? digits : digits.charAt(0) + "." + digits.substring(1);
    }
    if (alternate && decimals == 0) mantissa += ".";
    String e = String.format(Locale.ROOT, "%s%02d", exp < 0 ? "-" : "+", Math.abs(exp));
    return mantissa + (upper ? "E" : "e") + e;
  }

  private static String stripZeros(String text) {
    int e = Math.max(text.indexOf('e'), text.indexOf('E'));
    String mantissa = e < 0 ? text : text.substring(0, e);
    String rest = e < 0 ? "" : text.substring(e);
    if (mantissa.indexOf('.') >= 0) {
      mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return mantissa + rest;
  }

  private static String group(String digits) {
    StringBuilder sb = new StringBuilder(digits);
    for (int i = digits.length() - 3; i > 0; i -= 3) {
      sb.insert(i, ',');
    }
    return sb.toString();
  }

  private static String sign(boolean negative, Spec spec) {
    return negative ? "-" : spec.sign() == '+' ? "+" : spec.sign() == ' ' ? " " : "";
  }

  /** Body and sign/prefix laid out in the width: '=' pads between them. */
  private static String pad(String body, String prefix, Spec spec) {
    int missing = spec.width() - body.length() - prefix.length();
    if (missing <= 0) return prefix + body;
    String fill = String.valueOf(spec.fill()).repeat(missing);
    return switch (spec.align()) {
      case '<' -> prefix + body + fill;
      case '^' -> String.valueOf(spec.fill()).repeat(missing / 2) + prefix + body
          + String.valueOf(spec.fill()).repeat(missing - missing / 2);
      case '=' -> prefix + fill + body;
      default -> fill + prefix + body;
    };
  }

  private static BigInteger integer(Object value, char type, boolean percent, int line) {
    if (value instanceof BigInteger b) return b;
    if (Py.isInt(value)) return BigInteger.valueOf(Py.asLong(value));
    if (value instanceof Double d && percent && "diu".indexOf(type) >= 0) {
      return new BigDecimal(d).toBigInteger();
    }
    throw new TemplateError("TypeError: %" + type + " format: " + ("diu".indexOf(type) >= 0 ? "a real number"
        : "an integer") + " is required, not " + Py.typeName(value), line);
  }

  private static double real(Object value, int line) {
    if (Py.isNumber(value)) return Py.asDouble(value);
    throw new TemplateError("TypeError: must be real number, not " + Py.typeName(value), line);
  }

  private static TemplateError error(String message, int line) {
    return new TemplateError("TypeError: " + message, line);
  }
}
