package dev.amalgam.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python's value semantics, which is what a chat template really runs on: truthiness, {@code str()} and
 * {@code repr()}, equality and ordering, and whitespace as {@code str.isspace()} sees it. Values are
 * String, Long, Double, Boolean, null (None), List (PyTuple for tuples), Map, {@link Undefined},
 * {@link Namespace}, {@link LoopContext} and {@link PyCallable}.
 */
final class Py {
  private Py() {}

  // ---- whitespace and stripping ----

  /** {@code str.isspace()} for one code point (Java's isWhitespace misses the no-break spaces and NEL). */
  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || cp == 0x85 || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
  }

  static boolean isAllSpace(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (!isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean strippable(int cp, String chars) {
    return chars == null ? isSpace(cp) : chars.indexOf(Character.toString(cp)) >= 0;
  }

  /** {@code s.lstrip(chars)}; {@code chars == null} strips whitespace. */
  static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      if (!strippable(cp, chars)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return s.substring(i);
  }

  /** {@code s.rstrip(chars)}; {@code chars == null} strips whitespace. */
  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0) {
      int cp = s.codePointBefore(end);
      if (!strippable(cp, chars)) {
        break;
      }
      end -= Character.charCount(cp);
    }
    return s.substring(0, end);
  }

  static String strip(String s, String chars) {
    return lstrip(rstrip(s, chars), chars);
  }

  // ---- type names, truthiness, str, repr ----

  static String typeName(Object v) {
    if (v == null) return "NoneType";
    if (v instanceof String) return "str";
    if (v instanceof Boolean) return "bool";
    if (v instanceof Long || v instanceof BigInteger) return "int";
    if (v instanceof Double) return "float";
    if (v instanceof PyTuple) return "tuple";
    if (v instanceof List) return "list";
    if (v instanceof Map) return "dict";
    if (v instanceof Undefined) return "Undefined";
    if (v instanceof Namespace) return "Namespace";
    if (v instanceof LoopContext) return "LoopContext";
    if (v instanceof PyCallable) return "function";
    return v.getClass().getSimpleName();
  }

  static boolean truthy(Object v) {
    if (v == null || v instanceof Undefined) return false;
    if (v instanceof Boolean b) return b;
    if (v instanceof Long l) return l != 0;
    if (v instanceof BigInteger b) return b.signum() != 0;
    if (v instanceof Double d) return d != 0.0;
    if (v instanceof String s) return !s.isEmpty();
    if (v instanceof Collection<?> c) return !c.isEmpty();
    if (v instanceof Map<?, ?> m) return !m.isEmpty();
    return true;
  }

  /** Python's {@code str(v)}, which is what {@code {{ v }}} prints (Undefined prints as nothing). */
  static String str(Object v) {
    if (v instanceof String s) return s;
    if (v instanceof Undefined) return "";
    return repr(v);
  }

  static String repr(Object v) {
    StringBuilder sb = new StringBuilder();
    repr(v, sb);
    return sb.toString();
  }

  private static void repr(Object v, StringBuilder sb) {
    if (v == null) {
      sb.append("None");
    } else if (v instanceof String s) {
      reprString(s, sb);
    } else if (v instanceof Boolean b) {
      sb.append(b ? "True" : "False");
    } else if (v instanceof Long || v instanceof BigInteger) {
      sb.append(v);
    } else if (v instanceof Double d) {
      sb.append(floatRepr(d));
    } else if (v instanceof PyTuple t) {
      sb.append('(');
      reprItems(t, sb);
      sb.append(t.size() == 1 ? ",)" : ")");
    } else if (v instanceof List<?> list) {
      sb.append('[');
      reprItems(list, sb);
      sb.append(']');
    } else if (v instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!first) sb.append(", ");
        first = false;
        repr(e.getKey(), sb);
        sb.append(": ");
        repr(e.getValue(), sb);
      }
      sb.append('}');
    } else if (v instanceof Undefined) {
      sb.append("Undefined");
    } else if (v instanceof Namespace ns) {
      sb.append("<Namespace ");
      repr(ns.attributes, sb);
      sb.append('>');
    } else {
      sb.append('<').append(typeName(v)).append('>');
    }
  }

  private static void reprItems(List<?> list, StringBuilder sb) {
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) sb.append(", ");
      repr(list.get(i), sb);
    }
  }

  /** Python's string repr: single quotes unless the text has ' and no ", escapes for the unprintable. */
  private static void reprString(String s, StringBuilder sb) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    sb.append(quote);
    s.codePoints().forEach(cp -> {
      if (cp == quote || cp == '\\') {
        sb.append('\\').appendCodePoint(cp);
      } else if (cp == '\t') {
        sb.append("\\t");
      } else if (cp == '\n') {
        sb.append("\\n");
      } else if (cp == '\r') {
        sb.append("\\r");
      } else if (cp < 0x20 || cp == 0x7f) {
        sb.append(String.format("\\x%02x", cp));
      } else if (cp < 0x7f || isPrintable(cp)) {
        sb.appendCodePoint(cp);
      } else if (cp <= 0xff) {
        sb.append(String.format("\\x%02x", cp));
      } else if (cp <= 0xffff) {
        sb.append(String.format("\\u%04x", cp));
      } else {
        sb.append(String.format("\\U%08x", cp));
      }
    });
    sb.append(quote);
  }

  /** {@code str.isprintable()} for one code point. */
  private static boolean isPrintable(int cp) {
    switch (Character.getType(cp)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
        return false;
      case Character.SPACE_SEPARATOR:
        return cp == ' ';
      default:
        return true;
    }
  }

  /**
   * Python's {@code repr(float)}: the shortest digits that round-trip, fixed notation for exponents -4..15,
   * otherwise {@code 1e+16} style. (Java 17's Double.toString is not always shortest, so this rounds the
   * exact binary value to 1, 2, ... 17 significant digits and takes the first that reads back the same.)
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "nan";
    if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
    BigDecimal exact = new BigDecimal(d);
    BigDecimal r = exact;
    for (int p = 1; p <= 17; p++) {
      r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        break;
      }
    }
    r = r.stripTrailingZeros();
    String digits = r.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - r.scale();
    String sign = d < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = r.abs().toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
    int abs = Math.abs(exponent);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (abs < 10 ? "0" : "") + abs;
  }

  // ---- numbers ----

  /**
   * Python ints include bools. An int beyond 64 bits (a BigInteger, as JSON input can hold) is carried, printed,
   * serialized and compared exactly; arithmetic on it is refused ({@link #asLong}).
   */
  static boolean isInt(Object v) {
    return v instanceof Long || v instanceof Boolean || v instanceof BigInteger;
  }

  static boolean isNumber(Object v) {
    return isInt(v) || v instanceof Double;
  }

  static long asLong(Object v) {
    if (v instanceof BigInteger b) {
      throw new TemplateError("arithmetic on the integer " + b + ", beyond 64 bits, is not supported by this renderer",
          0);
    }
    return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
  }

  static double asDouble(Object v) {
    if (v instanceof BigInteger b) return b.doubleValue();
    return v instanceof Double d ? d : (double) asLong(v);
  }

  /** An int as a BigInteger, for comparing ints of any size. */
  private static BigInteger asBig(Object v) {
    return v instanceof BigInteger b ? b : BigInteger.valueOf(asLong(v));
  }

  // ---- equality and ordering ----

  static boolean eq(Object a, Object b) {
    if (a == null || b == null) return a == b;
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) {
        return asDouble(a) == asDouble(b);
      }
      return asBig(a).equals(asBig(b));
    }
    if (a instanceof Undefined || b instanceof Undefined) {
      return a instanceof Undefined && b instanceof Undefined;
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if ((a instanceof PyTuple) != (b instanceof PyTuple) || x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); i++) {
        if (!eq(x.get(i), y.get(i))) return false;
      }
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) return false;
      for (Map.Entry<?, ?> e : x.entrySet()) {
        Object key = findKey(y, e.getKey());
        if (key == MISSING || !eq(e.getValue(), y.get(key))) return false;
      }
      return true;
    }
    return a.equals(b);
  }

  static final Object MISSING = new Object();

  /** The key of {@code map} that equals {@code key} in Python's sense (1 == 1.0 == True), or MISSING. */
  static Object findKey(Map<?, ?> map, Object key) {
    if (key == null || key instanceof String) {
      return map.containsKey(key) ? key : MISSING;
    }
    for (Object k : map.keySet()) {
      if (eq(k, key)) return k;
    }
    return MISSING;
  }

  /** Python's ordering for {@code <}; a TypeError (as TemplateError) for unorderable types. */
  static int compare(Object a, Object b, String op, int line) {
    if (isNumber(a) && isNumber(b)) {
      if (a instanceof Double || b instanceof Double) {
        return Double.compare(asDouble(a), asDouble(b));
      }
      return asBig(a).compareTo(asBig(b));
    }
    if (a instanceof String x && b instanceof String y) {
      return compareCodePoints(x, y);
    }
    if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
      for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
        if (!eq(x.get(i), y.get(i))) {
          return compare(x.get(i), y.get(i), op, line);
        }
      }
      return Integer.compare(x.size(), y.size());
    }
    if (a instanceof Undefined u) throw u.error(line);
    if (b instanceof Undefined u) throw u.error(line);
    throw new TemplateError("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
        + typeName(b) + "'", line);
  }

  static int compareCodePoints(String x, String y) {
    int i = 0;
    int j = 0;
    while (i < x.length() && j < y.length()) {
      int a = x.codePointAt(i);
      int b = y.codePointAt(j);
      if (a != b) return Integer.compare(a, b);
      i += Character.charCount(a);
      j += Character.charCount(b);
    }
    return Integer.compare(x.length() - i, y.length() - j);
  }

  // ---- iteration and length ----

  /** Python's {@code iter(v)} as a list: strings give characters, dicts give keys, Undefined gives nothing. */
  static List<Object> iterate(Object v, int line) {
    if (v instanceof List<?> list) return new ArrayList<>(list);
    if (v instanceof Map<?, ?> map) return new ArrayList<>(map.keySet());
    if (v instanceof String s) {
      List<Object> chars = new ArrayList<>();
      s.codePoints().forEach(cp -> chars.add(Character.toString(cp)));
      return chars;
    }
    if (v instanceof Undefined) return new ArrayList<>();
    throw new TemplateError("'" + typeName(v) + "' object is not iterable", line);
  }

  static long len(Object v, int line) {
    if (v instanceof String s) return s.codePointCount(0, s.length());
    if (v instanceof Collection<?> c) return c.size();
    if (v instanceof Map<?, ?> m) return m.size();
    if (v instanceof Undefined) return 0;
    throw new TemplateError("object of type '" + typeName(v) + "' has no len()", line);
  }

  // ---- conversion of values handed in from Java (JSON, CLI, callers) ----

  /** Deep-copies Java values into the types the renderer works with (Long, Double, List, Map...). */
  static Object fromJava(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
      return v;
    }
    if (v instanceof BigInteger b) {
      return b.bitLength() < 64 ? (Object) b.longValue() : b;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
    if (v instanceof Float f) return f.doubleValue();
    if (v instanceof BigDecimal b) return b.doubleValue();
    if (v instanceof CharSequence || v instanceof Character) return v.toString();
    if (v instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.put(fromJava(e.getKey()), fromJava(e.getValue()));
      }
      return out;
    }
    if (v instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
        out.add(fromJava(i.next()));
      }
      return out;
    }
    if (v instanceof Object[] array) {
      return fromJava(java.util.Arrays.asList(array));
    }
    throw new TemplateError("cannot pass a " + v.getClass().getName() + " to a chat template", 0);
  }
}
