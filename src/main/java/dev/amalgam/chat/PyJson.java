package dev.amalgam.chat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(x, ensure_ascii=..., indent=..., separators=..., sort_keys=...)}, which is
 * transformers' {@code tojson} filter (it replaces jinja2's HTML-escaping one). Defaults give
 * {@code ", "} and {@code ": "} separators; with an indent the item separator becomes {@code ","}.
 */
final class PyJson {
  private final String indent;
  private final String itemSeparator;
  private final String keySeparator;
  private final boolean sortKeys;
  private final boolean ensureAscii;
  private final int line;

  PyJson(String indent, String itemSeparator, String keySeparator, boolean sortKeys, boolean ensureAscii, int line) {
    this.indent = indent;
    this.ensureAscii = ensureAscii;
    this.itemSeparator = itemSeparator != null ? itemSeparator : indent != null ? "," : ", ";
    this.keySeparator = keySeparator != null ? keySeparator : ": ";
    this.sortKeys = sortKeys;
    this.line = line;
  }

  String dumps(Object v) {
    StringBuilder sb = new StringBuilder();
    write(v, sb, 0);
    return sb.toString();
  }

  private void newline(StringBuilder sb, int level) {
    if (indent != null) {
      RenderLimits.checkChars(sb.length() + 1L + (long) indent.length() * level, line);
      sb.append('\n').append(indent.repeat(level));
    }
  }

  private void write(Object v, StringBuilder sb, int level) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Long || v instanceof BigInteger) {
      sb.append(v);
    } else if (v instanceof Double d) {
      sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
    } else if (v instanceof String s) {
      string(s, sb);
    } else if (v instanceof List<?> list) {
      if (list.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) sb.append(itemSeparator);
        newline(sb, level + 1);
        write(list.get(i), sb, level + 1);
      }
      newline(sb, level);
      sb.append(']');
    } else if (v instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        sb.append("{}");
        return;
      }
      List<Map.Entry<String, Object>> entries = new ArrayList<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        entries.add(Map.entry(key(e.getKey()), e.getValue() == null ? NULL : e.getValue()));
      }
      if (sortKeys) {
        entries.sort((x, y) -> Py.compareCodePoints(x.getKey(), y.getKey()));
      }
      sb.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : entries) {
        if (!first) sb.append(itemSeparator);
        first = false;
        newline(sb, level + 1);
        string(e.getKey(), sb);
        sb.append(keySeparator);
        write(e.getValue() == NULL ? null : e.getValue(), sb, level + 1);
      }
      newline(sb, level);
      sb.append('}');
    } else {
      throw new TemplateError("tojson: Object of type " + Py.typeName(v) + " is not JSON serializable", line);
    }
  }

  private static final Object NULL = new Object();

  /** json.dumps turns str/int/float/bool/None keys into strings and rejects the rest. */
  private String key(Object k) {
    if (k instanceof String s) return s;
    if (k == null) return "null";
    if (k instanceof Boolean b) return b ? "true" : "false";
    if (k instanceof Long || k instanceof BigInteger || k instanceof Double) {
      StringBuilder sb = new StringBuilder();
      write(k, sb, 0);
      return sb.toString();
    }
    throw new TemplateError("tojson: keys must be str, int, float, bool or None, not " + Py.typeName(k), line);
  }

  /**
   * Only '"', '\\' and control characters are escaped (lower-case hex); with ensure_ascii, every character outside
   * ' '..'~' too, as \\uXXXX UTF-16 units (surrogate pairs beyond the BMP), as Python's json does.
   */
  private void string(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        case '\b': sb.append("\\b"); break;
        case '\f': sb.append("\\f"); break;
        default:
          if (c < 0x20 || ensureAscii && c > 0x7e) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }
}
