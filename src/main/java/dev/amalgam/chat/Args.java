package dev.amalgam.chat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Positional/keyword argument binding for filters and methods, with Python-style errors on misuse. */
final class Args {
  private final String function;
  private final List<Object> positional;
  private final Map<String, Object> keywords;
  private final int line;
  private final Set<String> used = new HashSet<>();
  private int maxPositional;

  Args(String function, List<Object> positional, Map<String, Object> keywords, int line) {
    this.function = function;
    this.positional = positional;
    this.keywords = keywords;
    this.line = line;
  }

  /** Argument {@code index} (positional) or {@code name} (keyword), else {@code fallback}. */
  Object get(int index, String name, Object fallback) {
    maxPositional = Math.max(maxPositional, index + 1);
    used.add(name);
    if (index < positional.size()) {
      if (keywords.containsKey(name)) {
        throw error("got multiple values for argument '" + name + "'");
      }
      return positional.get(index);
    }
    return keywords.containsKey(name) ? keywords.get(name) : fallback;
  }

  /** A string argument (None allowed when {@code nullable}). */
  String string(int index, String name, String fallback, boolean nullable) {
    Object v = get(index, name, fallback);
    if (v == null && nullable) return null;
    if (v instanceof String s) return s;
    throw error("argument '" + name + "' must be a string, not " + Py.typeName(v));
  }

  long integer(int index, String name, long fallback) {
    Object v = get(index, name, fallback);
    if (Py.isInt(v)) return Py.asLong(v);
    throw error("argument '" + name + "' must be an integer, not " + Py.typeName(v));
  }

  boolean bool(int index, String name, boolean fallback) {
    return Py.truthy(get(index, name, fallback));
  }

  /** Fails on arguments that were passed but not consumed. */
  void done() {
    if (positional.size() > maxPositional) {
      throw error("takes at most " + maxPositional + " positional arguments (" + positional.size() + " given)");
    }
    for (String k : keywords.keySet()) {
      if (!used.contains(k)) {
        throw error("got an unexpected keyword argument '" + k + "'");
      }
    }
  }

  TemplateError error(String message) {
    return new TemplateError(function + "(): " + message, line);
  }

  /** Every keyword argument, all of them taken as used. */
  Map<String, Object> keywords() {
    used.addAll(keywords.keySet());
    return keywords;
  }

  int line() {
    return line;
  }
}
