package dev.amalgam.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python's operators on template values: arithmetic, {@code ~}, comparisons, {@code in}, indexing, slicing. */
final class Operators {
  /** The largest integer a template may build: Python's are unbounded, this keeps memory bounded. */
  private static final long MAX_BITS = 1L << 20;

  private Operators() {}

  static Object binary(String op, Object a, Object b, int line) {
    if (op.equals("~")) {
      // jinja2's concat converts both sides with str(); Undefined becomes "".
      String x = Py.str(a);
      String y = Py.str(b);
      RenderLimits.checkChars((long) x.length() + y.length(), line);
      return x + y;
    }
    if (a instanceof Markup || b instanceof Markup) {
      return Markup.plus(a, b, line);
    }
    if (a instanceof Undefined u) throw u.error(line);
    if (b instanceof Undefined u) throw u.error(line);
    if (Py.isNumber(a) && Py.isNumber(b)) {
      return arithmetic(op, a, b, line);
    }
    switch (op) {
      case "+":
        if (a instanceof String x && b instanceof String y) {
          RenderLimits.checkChars((long) x.length() + y.length(), line);
          return x + y;
        }
        if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
          RenderLimits.checkItems((long) x.size() + y.size(), line);
          List<Object> out = new ArrayList<>(x);
          out.addAll(y);
          return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        break;
      case "*":
        if (a instanceof String || a instanceof List) return repeat(a, b, line);
        if (b instanceof String || b instanceof List) return repeat(b, a, line);
        break;
      case "%":
        if (a instanceof String format) {
          return PyFormat.percent(format, b, line);
        }
        break;
      default:
        break;
    }
    throw new TemplateError("unsupported operand type(s) for " + op + ": '" + Py.typeName(a) + "' and '"
        + Py.typeName(b) + "'", line);
  }

  private static Object repeat(Object seq, Object times, int line) {
    if (!Py.isInt(times)) {
      throw new TemplateError("can't multiply sequence by non-int of type '" + Py.typeName(times) + "'", line);
    }
    long n = Py.asLong(times);
    if (seq instanceof String s) {
      if (n <= 0 || s.isEmpty()) {
        return "";
      }
      RenderLimits.checkChars(Math.multiplyHigh(s.length(), n) != 0 ? Long.MAX_VALUE : s.length() * n, line);
      return s.repeat(Math.toIntExact(n));
    }
    int size = ((List<?>) seq).size();
    RenderLimits.checkItems(n <= 0 || size == 0 ? 0 : Math.multiplyHigh(size, n) != 0 ? Long.MAX_VALUE : size * n,
        line);
    List<Object> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      out.addAll((List<?>) seq);
    }
    return seq instanceof PyTuple ? new PyTuple(out) : out;
  }

  private static Object arithmetic(String op, Object a, Object b, int line) {
    boolean ints = Py.isInt(a) && Py.isInt(b);
    if (ints && (a instanceof BigInteger || b instanceof BigInteger)) {
      return bigArithmetic(op, big(a), big(b), line);
    }
    try {
      if (ints) {
        long x = Py.asLong(a);
        long y = Py.asLong(b);
        switch (op) {
          case "+": return Math.addExact(x, y);
          case "-": return Math.subtractExact(x, y);
          case "*": return Math.multiplyExact(x, y);
          case "/":
            if (y == 0) throw new TemplateError("division by zero", line);
            return (double) x / (double) y;
          case "//":
            if (y == 0) throw new TemplateError("integer division or modulo by zero", line);
            return Math.floorDiv(x, y);
          case "%":
            if (y == 0) throw new TemplateError("integer division or modulo by zero", line);
            return Math.floorMod(x, y);
          case "**":
            if (y < 0) return Math.pow(x, y);
            long r = 1;
            for (long i = 0; i < y; i++) r = Math.multiplyExact(r, x);
            return r;
          default:
            break;
        }
      } else {
        double x = Py.asDouble(a);
        double y = Py.asDouble(b);
        switch (op) {
          case "+": return x + y;
          case "-": return x - y;
          case "*": return x * y;
          case "/":
            if (y == 0) throw new TemplateError("float division by zero", line);
            return x / y;
          case "//":
            if (y == 0) throw new TemplateError("float floor division by zero", line);
            return Math.floor(x / y);
          case "%": {
            if (y == 0) throw new TemplateError("float modulo", line);
            double m = x % y;
            return m != 0 && (m < 0) != (y < 0) ? m + y : m;
          }
          case "**": return Math.pow(x, y);
          default:
            break;
        }
      }
    } catch (ArithmeticException overflow) {
      return bigArithmetic(op, big(a), big(b), line);  // Python's ints are unbounded: go on exactly
    }
    throw new TemplateError("unknown operator " + op, line);
  }

  /** Integer arithmetic beyond 64 bits, as Python's; results that fit come back as longs. */
  private static Object bigArithmetic(String op, BigInteger x, BigInteger y, int line) {
    BigInteger result;
    switch (op) {
      case "+" -> result = x.add(y);
      case "-" -> result = x.subtract(y);
      case "*" -> result = x.multiply(y);
      case "/" -> {
        if (y.signum() == 0) throw new TemplateError("division by zero", line);
        return new BigDecimal(x).divide(new BigDecimal(y), MathContext.DECIMAL64).doubleValue();
      }
      case "//", "%" -> {
        if (y.signum() == 0) throw new TemplateError("integer division or modulo by zero", line);
        BigInteger[] qr = x.divideAndRemainder(y);
        if (qr[1].signum() != 0 && qr[1].signum() != y.signum()) {
          qr[0] = qr[0].subtract(BigInteger.ONE);
          qr[1] = qr[1].add(y);
        }
        result = op.equals("//") ? qr[0] : qr[1];
      }
      case "**" -> {
        if (y.signum() < 0) return Math.pow(x.doubleValue(), y.doubleValue());
        if (x.abs().compareTo(BigInteger.ONE) <= 0) {  // 0, 1 and -1 to any power, however large
          BigInteger power = x.signum() == 0 ? (y.signum() == 0 ? BigInteger.ONE : BigInteger.ZERO)
              : x.signum() > 0 || !y.testBit(0) ? BigInteger.ONE : BigInteger.ONE.negate();
          return power.longValue();
        }
        if ((long) x.bitLength() * y.min(BigInteger.valueOf(MAX_BITS)).longValue() > MAX_BITS) {
          throw new TemplateError("the template would build an integer of over " + MAX_BITS + " bits", line);
        }
        result = x.pow(y.intValueExact());
      }
      default -> throw new TemplateError("unknown operator " + op, line);
    }
    if (result.bitLength() > MAX_BITS) {
      throw new TemplateError("the template would build an integer of over " + MAX_BITS + " bits", line);
    }
    return result.bitLength() < 64 ? (Object) result.longValue() : result;
  }

  private static BigInteger big(Object v) {
    return v instanceof BigInteger b ? b : BigInteger.valueOf(Py.asLong(v));
  }

  static Object unary(String op, Object v, int line) {
    if (v instanceof Undefined u) throw u.error(line);
    if (!Py.isNumber(v)) {
      throw new TemplateError("bad operand type for unary " + op + ": '" + Py.typeName(v) + "'", line);
    }
    if (op.equals("+")) return v instanceof Boolean ? Py.asLong(v) : v;
    if (v instanceof Double d) return -d;
    if (v instanceof BigInteger b) {
      BigInteger negated = b.negate();
      return negated.bitLength() < 64 ? (Object) negated.longValue() : negated;
    }
    long x = Py.asLong(v);
    return x == Long.MIN_VALUE ? BigInteger.valueOf(x).negate() : (Object) (-x);
  }

  static boolean compare(String op, Object a, Object b, int line) {
    switch (op) {
      case "==": return Py.eq(a, b);
      case "!=": return !Py.eq(a, b);
      case "<": return Py.compare(a, b, op, line) < 0;
      case "<=": return Py.compare(a, b, op, line) <= 0;
      case ">": return Py.compare(a, b, op, line) > 0;
      case ">=": return Py.compare(a, b, op, line) >= 0;
      case "in": return contains(b, a, line);
      case "notin": return !contains(b, a, line);
      default: throw new TemplateError("unknown comparison " + op, line);
    }
  }

  /** Python's {@code item in container}. */
  static boolean contains(Object container, Object item, int line) {
    if (container instanceof String s) {
      if (item instanceof String sub) return s.contains(sub);
      if (item instanceof Undefined u) throw u.error(line);
      throw new TemplateError("'in <string>' requires string as left operand, not " + Py.typeName(item), line);
    }
    if (container instanceof List<?> list) {
      for (Object x : list) {
        if (Py.eq(x, item)) return true;
      }
      return false;
    }
    if (container instanceof Map<?, ?> map) return Py.findKey(map, item) != Py.MISSING;
    if (container instanceof Undefined) return false; // iterates as empty
    throw new TemplateError("argument of type '" + Py.typeName(container) + "' is not iterable", line);
  }

  /** {@code seq[i]} for a list or string, negative from the end; out of range is Undefined, as in jinja2. */
  static Object index(Object seq, long i) {
    if (seq instanceof String s) {
      int[] cps = s.codePoints().toArray();
      long k = i < 0 ? i + cps.length : i;
      if (k < 0 || k >= cps.length) return Undefined.item(seq, i);
      return Character.toString(cps[(int) k]);
    }
    List<?> list = (List<?>) seq;
    long k = i < 0 ? i + list.size() : i;
    if (k < 0 || k >= list.size()) return Undefined.item(seq, i);
    return list.get((int) k);
  }

  /** {@code seq[start:stop:step]} with Python's index adjustment; null parts take their defaults. */
  static Object slice(Object seq, Long start, Long stop, Long step, int line) {
    long st = step == null ? 1 : step;
    if (st == 0) throw new TemplateError("slice step cannot be zero", line);
    int[] cps = null;
    int length;
    if (seq instanceof String s) {
      cps = s.codePoints().toArray();
      length = cps.length;
    } else if (seq instanceof List<?> list) {
      length = list.size();
    } else {
      throw new TemplateError("'" + Py.typeName(seq) + "' object is not subscriptable", line);
    }
    long lo;
    long hi;
    if (st > 0) {
      lo = start == null ? 0 : clamp(start, length, 0, length);
      hi = stop == null ? length : clamp(stop, length, 0, length);
    } else {
      lo = start == null ? length - 1 : clamp(start, length, -1, length - 1);
      hi = stop == null ? -1 : clamp(stop, length, -1, length - 1);
    }
    List<Integer> picks = new ArrayList<>();
    for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
      picks.add((int) i);
    }
    if (cps != null) {
      StringBuilder sb = new StringBuilder();
      for (int i : picks) sb.appendCodePoint(cps[i]);
      return sb.toString();
    }
    List<?> list = (List<?>) seq;
    List<Object> out = new ArrayList<>(picks.size());
    for (int i : picks) out.add(list.get(i));
    return seq instanceof PyTuple ? new PyTuple(out) : out;
  }

  /** PySlice_AdjustIndices: negative counts from the end, then clamp into [lower, upper]. */
  private static long clamp(long index, int length, long lower, long upper) {
    long i = index < 0 ? index + length : index;
    return Math.max(lower, Math.min(upper, i));
  }
}
