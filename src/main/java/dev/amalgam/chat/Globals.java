package dev.amalgam.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The global functions a chat template sees: jinja2's {@code range}, {@code dict}, {@code namespace}, and
 * the two transformers adds, {@code raise_exception} and {@code strftime_now}.
 */
final class Globals {
  private Globals() {}

  static Map<String, Object> create(Supplier<ZonedDateTime> clock) {
    Map<String, Object> g = new HashMap<>();
    g.put("raise_exception", (PyCallable) (args, kw, line) -> {
      Args a = new Args("raise_exception", args, kw, line);
      Object message = a.get(0, "message", "");
      a.done();
      throw new TemplateError.Raised(Py.str(message), line);
    });
    g.put("namespace", (PyCallable) (args, kw, line) -> {
      Namespace ns = new Namespace();
      for (Object arg : args) {
        if (!(arg instanceof Map<?, ?> map)) {
          throw new TemplateError("namespace() takes keyword arguments or a dict", line);
        }
        map.forEach((k, v) -> ns.attributes.put(Py.str(k), v));
      }
      ns.attributes.putAll(kw);
      return ns;
    });
    g.put("dict", (PyCallable) (args, kw, line) -> {
      if (!args.isEmpty()) {
        throw new TemplateError("dict() with positional arguments is not supported by this renderer", line);
      }
      return new java.util.LinkedHashMap<Object, Object>(kw);
    });
    g.put("range", (PyCallable) Globals::range);
    g.put("strftime_now", (PyCallable) (args, kw, line) -> {
      Args a = new Args("strftime_now", args, kw, line);
      String format = a.string(0, "format", null, false);
      a.done();
      return strftime(clock.get(), format, line);
    });
    return g;
  }

  private static Object range(List<Object> args, Map<String, Object> kw, int line) {
    if (!kw.isEmpty() || args.isEmpty() || args.size() > 3 || !args.stream().allMatch(Py::isInt)) {
      throw new TemplateError("range() takes 1 to 3 integer arguments", line);
    }
    long start = args.size() == 1 ? 0 : Py.asLong(args.get(0));
    long stop = Py.asLong(args.get(args.size() == 1 ? 0 : 1));
    long step = args.size() == 3 ? Py.asLong(args.get(2)) : 1;
    if (step == 0) throw new TemplateError("range() arg 3 must not be zero", line);
    List<Object> out = new ArrayList<>();
    for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() >= 100_000) throw new TemplateError("range() too large (over 100000 items)", line);
      out.add(i);
    }
    return out;
  }

  /** Python's strftime for the directives chat templates use; any other directive is an error. */
  static String strftime(ZonedDateTime t, String format, int line) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 >= format.length()) {
        sb.append(c);
        continue;
      }
      char d = format.charAt(++i);
      boolean noPad = false;
      if (d == '-' && i + 1 < format.length()) {
        noPad = true;
        d = format.charAt(++i);
      }
      switch (d) {
        case 'd': sb.append(num(t.getDayOfMonth(), 2, noPad)); break;
        case 'm': sb.append(num(t.getMonthValue(), 2, noPad)); break;
        case 'Y': sb.append(t.getYear()); break;
        case 'y': sb.append(num(t.getYear() % 100, 2, noPad)); break;
        case 'H': sb.append(num(t.getHour(), 2, noPad)); break;
        case 'I': sb.append(num((t.getHour() + 11) % 12 + 1, 2, noPad)); break;
        case 'M': sb.append(num(t.getMinute(), 2, noPad)); break;
        case 'S': sb.append(num(t.getSecond(), 2, noPad)); break;
        case 'j': sb.append(num(t.getDayOfYear(), 3, noPad)); break;
        case 'p': sb.append(t.getHour() < 12 ? "AM" : "PM"); break;
        case 'b': sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US)); break;
        case 'B': sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US)); break;
        case 'a': sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US)); break;
        case 'A': sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US)); break;
        case '%': sb.append('%'); break;
        default:
          throw new TemplateError("strftime_now: the directive %" + d + " is not supported by this renderer", line);
      }
    }
    return sb.toString();
  }

  private static String num(int value, int width, boolean noPad) {
    String s = Integer.toString(value);
    return noPad || s.length() >= width ? s : "0".repeat(width - s.length()) + s;
  }
}
