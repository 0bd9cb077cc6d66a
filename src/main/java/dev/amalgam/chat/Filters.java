package dev.amalgam.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The jinja2 filters chat templates use, with jinja2 3.1's semantics ({@code title} is jinja2's word
 * title-casing, not str.title; {@code sort} and {@code unique} ignore case by default), plus
 * transformers' {@code tojson}. Filters jinja2 has but this renderer lacks are refused by name.
 */
final class Filters {
  private Filters() {}

  @FunctionalInterface
  interface Filter {
    Object apply(Renderer r, Object value, Args a);
  }

  private static final Map<String, Filter> FILTERS = new HashMap<>();
  /** jinja2 built-ins not implemented here: named in errors so the gap is obvious. */
  private static final Set<String> JINJA_ONLY = Set.of(
      "forceescape", "pprint", "random", "urlize", "xmlattr");
  private static final Pattern WORD_BEGINNING = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);

  static boolean exists(String name) {
    return FILTERS.containsKey(name);
  }

  static String unknownMessage(String name) {
    return JINJA_ONLY.contains(name)
        ? "the jinja2 filter '" + name + "' is not supported by this renderer"
        : "unknown filter '" + name + "'";
  }

  static Object apply(Renderer r, String name, Object value, List<Object> args, Map<String, Object> kwargs, int line) {
    Filter f = FILTERS.get(name);
    if (f == null) {
      throw new TemplateError(unknownMessage(name), line);
    }
    return f.apply(r, value, new Args("filter " + name, args, kwargs, line));
  }

  static void register(Filter f, String... names) {
    for (String n : names) {
      FILTERS.put(n, f);
    }
  }

  /** jinja2's soft_str: str(), with Undefined as "". */
  private static String text(Object v) {
    return Py.str(v);
  }

  static {
    register((r, v, a) -> {
      a.done();
      return Py.len(v, a.line());
    }, "length", "count");
    register((r, v, a) -> {
      Object indent = a.get(0, "indent", null);
      boolean ensureAscii = a.bool(1, "ensure_ascii", false);
      Object separators = a.get(2, "separators", null);
      boolean sortKeys = a.bool(3, "sort_keys", false);
      a.done();
      if (indent != null && !(indent instanceof String) && !Py.isInt(indent)) {
        throw a.error("indent must be an int or a string");
      }
      RenderLimits.checkIndent(indent instanceof String s ? s.length() : indent == null ? 0 : Py.asLong(indent),
          a.line());
      String indentText = indent == null ? null : indent instanceof String s ? s
          : " ".repeat((int) Math.max(0, Py.asLong(indent)));
      String item = null;
      String key = null;
      if (separators != null) {
        if (!(separators instanceof List<?> seps) || seps.size() != 2
            || !(seps.get(0) instanceof String) || !(seps.get(1) instanceof String)) {
          throw a.error("separators must be a pair of strings");
        }
        item = (String) seps.get(0);
        key = (String) seps.get(1);
      }
      return new PyJson(indentText, item, key, sortKeys, ensureAscii, a.line()).dumps(v);
    }, "tojson");
    register((r, v, a) -> {
      String chars = a.string(0, "chars", null, true);
      a.done();
      return Py.strip(text(v), chars);
    }, "trim");
    register((r, v, a) -> {
      a.done();
      return text(v);
    }, "string");
    register((r, v, a) -> {
      a.done();
      return text(v).toLowerCase(Locale.ROOT);
    }, "lower");
    register((r, v, a) -> {
      a.done();
      return text(v).toUpperCase(Locale.ROOT);
    }, "upper");
    register((r, v, a) -> {
      a.done();
      return PyStrings.capitalize(text(v));
    }, "capitalize");
    register((r, v, a) -> {
      a.done();
      // jinja2's do_title: upper-case the first letter after whitespace, '-', or an opening bracket.
      StringBuilder sb = new StringBuilder();
      var m = WORD_BEGINNING.matcher(text(v));
      int last = 0;
      List<String> parts = new ArrayList<>();
      while (m.find()) {
        parts.add(text(v).substring(last, m.start()));
        parts.add(m.group());
        last = m.end();
      }
      parts.add(text(v).substring(last));
      for (String item : parts) {
        if (!item.isEmpty()) {
          int first = item.codePointAt(0);
          sb.append(Character.toString(first).toUpperCase(Locale.ROOT))
              .append(item.substring(Character.charCount(first)).toLowerCase(Locale.ROOT));
        }
      }
      return sb.toString();
    }, "title");
    register((r, v, a) -> {
      a.done();
      List<Object> items = Py.iterate(v, a.line());
      return items.isEmpty() ? Undefined.name("first item") : items.get(0);
    }, "first");
    register((r, v, a) -> {
      a.done();
      List<Object> items = Py.iterate(v, a.line());
      return items.isEmpty() ? Undefined.name("last item") : items.get(items.size() - 1);
    }, "last");
    register((r, v, a) -> {
      String sep = a.string(0, "d", "", false);
      Object attribute = a.get(1, "attribute", null);
      a.done();
      StringBuilder sb = new StringBuilder();
      List<Object> items = Py.iterate(v, a.line());
      for (int i = 0; i < items.size(); i++) {
        if (i > 0) sb.append(sep);
        Object item = attribute == null ? items.get(i) : attributeOf(r, items.get(i), attribute, null, a.line());
        sb.append(text(item));
      }
      return sb.toString();
    }, "join");
    register((r, v, a) -> {
      Object fallback = a.get(0, "default_value", "");
      boolean bool = a.bool(1, "boolean", false);
      a.done();
      return v instanceof Undefined || (bool && !Py.truthy(v)) ? fallback : v;
    }, "default", "d");
    register((r, v, a) -> {
      a.done();
      return Py.iterate(v, a.line());
    }, "list");
    register((r, v, a) -> {
      a.done();
      if (v instanceof Undefined) return new ArrayList<>();
      if (!(v instanceof Map<?, ?> map)) throw a.error("can only get item pairs from a mapping");
      List<Object> out = new ArrayList<>();
      map.forEach((k, x) -> out.add(PyTuple.of(k, x)));
      return out;
    }, "items");
    register((r, v, a) -> {
      String old = a.string(0, "old", null, false);
      String replacement = a.string(1, "new", null, false);
      Object count = a.get(2, "count", null);
      a.done();
      return PyStrings.replace(text(v), old, replacement, count == null ? -1 : Py.asLong(count));
    }, "replace");
    register(Filters::map, "map");
    register((r, v, a) -> select(r, v, a, false, false), "select");
    register((r, v, a) -> select(r, v, a, true, false), "reject");
    register((r, v, a) -> select(r, v, a, false, true), "selectattr");
    register((r, v, a) -> select(r, v, a, true, true), "rejectattr");
    register((r, v, a) -> {
      boolean caseSensitive = a.bool(0, "case_sensitive", false);
      Object attribute = a.get(1, "attribute", null);
      a.done();
      List<Object> out = new ArrayList<>();
      List<Object> seen = new ArrayList<>();
      for (Object item : Py.iterate(v, a.line())) {
        Object key = sortKey(r, item, attribute, caseSensitive, a.line());
        if (seen.stream().noneMatch(s -> Py.eq(s, key))) {
          seen.add(key);
          out.add(item);
        }
      }
      return out;
    }, "unique");
    register((r, v, a) -> {
      a.done();
      if (v instanceof String s) return new StringBuilder(s).reverse().toString();
      List<Object> items = Py.iterate(v, a.line());
      Collections.reverse(items);
      return items;
    }, "reverse");
    register((r, v, a) -> {
      boolean reverse = a.bool(0, "reverse", false);
      boolean caseSensitive = a.bool(1, "case_sensitive", false);
      Object attribute = a.get(2, "attribute", null);
      a.done();
      List<Object> items = Py.iterate(v, a.line());
      Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(r, x, attribute, caseSensitive, a.line()),
          sortKey(r, y, attribute, caseSensitive, a.line()), "<", a.line());
      items.sort(reverse ? cmp.reversed() : cmp);
      return items;
    }, "sort");
    register((r, v, a) -> {
      boolean caseSensitive = a.bool(0, "case_sensitive", false);
      String by = a.string(1, "by", "key", false);
      boolean reverse = a.bool(2, "reverse", false);
      a.done();
      if (!by.equals("key") && !by.equals("value")) {
        throw a.error("You can only sort by either \"key\" or \"value\"");
      }
      if (!(v instanceof Map<?, ?> map)) throw a.error("'" + Py.typeName(v) + "' object has no attribute 'items'");
      int position = by.equals("key") ? 0 : 1;
      List<Object> items = new ArrayList<>();
      map.forEach((key, value) -> items.add(PyTuple.of(key, value)));
      Comparator<Object> cmp = (x, y) -> Py.compare(sortKey(r, ((List<?>) x).get(position), null, caseSensitive,
          a.line()), sortKey(r, ((List<?>) y).get(position), null, caseSensitive, a.line()), "<", a.line());
      items.sort(reverse ? cmp.reversed() : cmp);
      return items;
    }, "dictsort");
    register((r, v, a) -> {
      a.done();
      if (!Py.isNumber(v)) throw a.error("bad operand type for abs(): '" + Py.typeName(v) + "'");
      return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.asLong(v));
    }, "abs");
    register((r, v, a) -> {
      Object fallback = a.get(0, "default", 0L);
      long base = a.integer(1, "base", 10);
      a.done();
      if (Py.isInt(v)) return Py.asLong(v);
      if (v instanceof Double d) return (long) d.doubleValue();
      try {
        return Long.parseLong(Py.strip(text(v), null).replace("_", ""), (int) base);
      } catch (NumberFormatException e) {
        try {
          return (long) Double.parseDouble(Py.strip(text(v), null));
        } catch (NumberFormatException e2) {
          return fallback;
        }
      }
    }, "int");
    register((r, v, a) -> {
      Object fallback = a.get(0, "default", 0.0);
      a.done();
      if (Py.isNumber(v)) return Py.asDouble(v);
      try {
        return Double.parseDouble(Py.strip(text(v), null));
      } catch (NumberFormatException e) {
        return fallback;
      }
    }, "float");
    register((r, v, a) -> {
      long precision = a.integer(0, "precision", 0);
      String method = a.string(1, "method", "common", false);
      a.done();
      double x = Py.asDouble(v);
      // Python's round() rounds the exact binary value half-to-even, so 2.5 -> 2.0 and 2.675 -> 2.67.
      java.math.RoundingMode mode = switch (method) {
        case "common" -> java.math.RoundingMode.HALF_EVEN;
        case "ceil" -> java.math.RoundingMode.CEILING;
        case "floor" -> java.math.RoundingMode.FLOOR;
        default -> throw a.error("method must be common, ceil or floor");
      };
      return new java.math.BigDecimal(x).setScale((int) precision, mode).doubleValue();
    }, "round");
    register((r, v, a) -> {
      Object width = a.get(0, "width", 4L);
      boolean first = a.bool(1, "first", false);
      boolean blank = a.bool(2, "blank", false);
      a.done();
      RenderLimits.checkIndent(width instanceof String s ? s.length() : Py.asLong(width), a.line());
      String indention = width instanceof String s ? s : " ".repeat((int) Math.max(0, Py.asLong(width)));
      String s = text(v) + "\n"; // jinja2's own quirk, so that splitlines keeps a trailing empty line
      List<Object> lines = PyStrings.splitlines(s, false);
      RenderLimits.checkChars(s.length() + (long) lines.size() * indention.length(), a.line());
      String rv;
      if (blank) {
        rv = String.join("\n" + indention, lines.stream().map(Object::toString).toList());
      } else {
        StringBuilder sb = new StringBuilder(lines.isEmpty() ? "" : (String) lines.get(0));
        for (int i = 1; i < lines.size(); i++) {
          String line = (String) lines.get(i);
          sb.append('\n').append(line.isEmpty() ? line : indention + line);
        }
        rv = sb.toString();
      }
      return first ? indention + rv : rv;
    }, "indent");
    register((r, v, a) -> {
      a.done();
      return new Markup(text(v));
    }, "safe");
    register((r, v, a) -> {
      a.done();
      return new Markup(Markup.escape(text(v)));
    }, "escape", "e");
    register((r, v, a) -> {
      Object attribute = a.get(0, "attribute", null);
      Object start = a.get(1, "start", 0L);
      a.done();
      Object total = start;
      for (Object item : Py.iterate(v, a.line())) {
        Object x = attribute == null ? item : attributeOf(r, item, attribute, null, a.line());
        total = Operators.binary("+", total, x, a.line());
      }
      return total;
    }, "sum");
    register((r, v, a) -> {
      String name = a.string(0, "name", null, false);
      a.done();
      // jinja2's attr filter looks up Python attributes only, never dict keys.
      if (v instanceof Map) {
        PyCallable method = PyMethods.lookup(v, name, a.line());
        return method != null ? method : Undefined.attribute(v, name);
      }
      return r.getattr(v, name, a.line());
    }, "attr");
    CollectionFilters.register();
    TextFilters.register();
  }

  /** jinja2's make_attribute: "a.b.0" walks items/attributes (getitem semantics); a default fills Undefined. */
  static Object attributeOf(Renderer r, Object item, Object attribute, Object fallback, int line) {
    Object v = item;
    List<Object> path = new ArrayList<>();
    if (attribute instanceof String s) {
      for (String part : s.split("\\.", -1)) {
        path.add(part.matches("\\d+") ? (Object) Long.parseLong(part) : part);
      }
    } else {
      path.add(attribute);
    }
    for (Object part : path) {
      v = r.getitem(v, part, line);
    }
    return v instanceof Undefined && fallback != null ? fallback : v;
  }

  static Object sortKey(Renderer r, Object item, Object attribute, boolean caseSensitive, int line) {
    Object v = attribute == null ? item : attributeOf(r, item, attribute, null, line);
    return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
  }

  private static Object map(Renderer r, Object value, Args a) {
    Object first = a.get(0, "__filter_or_attribute", null);
    List<Object> items = Py.iterate(value, a.line());
    List<Object> out = new ArrayList<>();
    if (first instanceof String filterName) {
      // map('filter', *args): positional args after the name go to that filter.
      List<Object> rest = new ArrayList<>();
      for (int i = 1; ; i++) {
        Object x = a.get(i, "__arg" + i, Py.MISSING);
        if (x == Py.MISSING) break;
        rest.add(x);
      }
      a.done();
      for (Object item : items) {
        out.add(apply(r, filterName, item, rest, new LinkedHashMap<>(), a.line()));
      }
      return out;
    }
    Object attribute = a.get(1, "attribute", null);
    Object fallback = a.get(2, "default", null);
    a.done();
    if (attribute == null) throw a.error("map needs a filter name or attribute=");
    for (Object item : items) {
      out.add(attributeOf(r, item, attribute, fallback, a.line()));
    }
    return out;
  }

  private static Object select(Renderer r, Object value, Args a, boolean reject, boolean byAttribute) {
    int i = 0;
    Object attribute = byAttribute ? a.get(i++, "attribute", null) : null;
    if (byAttribute && attribute == null) throw a.error("an attribute name is required");
    String test = a.string(i++, "__test", null, true);
    List<Object> testArgs = new ArrayList<>();
    for (; ; i++) {
      Object x = a.get(i, "__arg" + i, Py.MISSING);
      if (x == Py.MISSING) break;
      testArgs.add(x);
    }
    a.done();
    if (test != null && !JinjaTests.exists(test)) throw new TemplateError(JinjaTests.unknownMessage(test), a.line());
    List<Object> out = new ArrayList<>();
    if (!Py.truthy(value)) {
      return out;  // jinja2 selects from `if value`: none, an empty or undefined sequence gives nothing
    }
    for (Object item : Py.iterate(value, a.line())) {
      Object subject = byAttribute ? attributeOf(r, item, attribute, null, a.line()) : item;
      boolean ok = test == null ? Py.truthy(subject)
          : (Boolean) JinjaTests.apply(r, test, subject, testArgs, a.line());
      if (ok != reject) out.add(item);
    }
    return out;
  }
}
