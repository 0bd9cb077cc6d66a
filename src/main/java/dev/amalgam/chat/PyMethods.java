package dev.amalgam.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods templates call on strings, dicts and lists ({@code content.split('</think>')},
 * {@code message.get('x')}). Each behaves as CPython's does; a real Python method that is not implemented
 * here is an error naming it, never a silently different result. Mutating methods are refused, as
 * transformers' ImmutableSandboxedEnvironment refuses them.
 */
final class PyMethods {
  private PyMethods() {}

  private static final Set<String> STR_METHODS = Set.of(
      "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
      "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
      "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans",
      "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
      "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill");
  private static final Set<String> DICT_METHODS = Set.of(
      "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values");
  private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
  private static final Set<String> LIST_METHODS = Set.of(
      "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort");
  private static final Set<String> LIST_MUTATORS = Set.of(
      "append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

  /**
   * The bound method {@code obj.name}, or null when {@code obj} has no such Python method (the caller then
   * looks for a dict key or yields Undefined).
   */
  static PyCallable lookup(Object obj, String name, int line) {
    if (obj instanceof String s && STR_METHODS.contains(name)) {
      return stringMethod(s, name, line);
    }
    if (obj instanceof Map<?, ?> map && DICT_METHODS.contains(name)) {
      if (DICT_MUTATORS.contains(name)) throw unsafe(name, "dict", line);
      return dictMethod(map, name, line);
    }
    if (obj instanceof List<?> list && (LIST_METHODS.contains(name))) {
      boolean tuple = obj instanceof PyTuple;
      if (tuple && !name.equals("count") && !name.equals("index")) return null;
      if (LIST_MUTATORS.contains(name)) throw unsafe(name, "list", line);
      return listMethod(list, name, line);
    }
    return null;
  }

  private static TemplateError unsafe(String name, String type, int line) {
    return new TemplateError("access to attribute '" + name + "' of '" + type
        + "' object is unsafe (templates may not modify their inputs)", line);
  }

  private static TemplateError unsupported(String type, String name, int line) {
    return new TemplateError("the " + type + " method '" + name + "' is not supported by this renderer", line);
  }

  private static PyCallable stringMethod(String s, String name, int line) {
    switch (name) {
      case "format":
        return (args, kw, l) -> PyFormat.format(s, args, kw, l);
      case "strip":
      case "lstrip":
      case "rstrip":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          String chars = a.string(0, "chars", null, true);
          a.done();
          return name.equals("strip") ? Py.strip(s, chars) : name.equals("lstrip") ? Py.lstrip(s, chars) : Py.rstrip(s, chars);
        };
      case "split":
      case "rsplit":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          String sep = a.string(0, "sep", null, true);
          long maxsplit = a.integer(1, "maxsplit", -1);
          a.done();
          if (sep != null && sep.isEmpty()) throw a.error("empty separator");
          return name.equals("split") ? PyStrings.split(s, sep, maxsplit) : PyStrings.rsplit(s, sep, maxsplit);
        };
      case "splitlines":
        return (args, kw, l) -> {
          Args a = new Args("str.splitlines", args, kw, l);
          boolean keepends = a.bool(0, "keepends", false);
          a.done();
          return PyStrings.splitlines(s, keepends);
        };
      case "startswith":
      case "endswith":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          Object affix = a.get(0, name.equals("startswith") ? "prefix" : "suffix", Py.MISSING);
          Object start = a.get(1, "start", null);
          Object end = a.get(2, "end", null);
          a.done();
          if (affix == Py.MISSING) throw a.error("missing required argument");
          String sub = (String) Operators.slice(s, start == null ? null : (Long) Py.asLong(start),
              end == null ? null : (Long) Py.asLong(end), null, l);
          List<Object> options = new ArrayList<>();
          if (affix instanceof String str) {
            options.add(str);
          } else if (affix instanceof PyTuple t) {
            options.addAll(t);
          } else {
            throw a.error("first arg must be str or a tuple of str, not " + Py.typeName(affix));
          }
          for (Object o : options) {
            if (!(o instanceof String str)) throw a.error("tuple for " + name + " must only contain str");
            if (name.equals("startswith") ? sub.startsWith(str) : sub.endsWith(str)) return true;
          }
          return false;
        };
      case "upper":
        return noArgs(name, () -> s.toUpperCase(java.util.Locale.ROOT));
      case "lower":
        return noArgs(name, () -> s.toLowerCase(java.util.Locale.ROOT));
      case "casefold":
        return noArgs(name, () -> s.toUpperCase(java.util.Locale.ROOT).toLowerCase(java.util.Locale.ROOT));
      case "title":
        return noArgs(name, () -> PyStrings.title(s));
      case "capitalize":
        return noArgs(name, () -> PyStrings.capitalize(s));
      case "swapcase":
        return noArgs(name, () -> PyStrings.swapcase(s));
      case "replace":
        return (args, kw, l) -> {
          Args a = new Args("str.replace", args, kw, l);
          String old = a.string(0, "old", null, false);
          String replacement = a.string(1, "new", null, false);
          long count = a.integer(2, "count", -1);
          a.done();
          return PyStrings.replace(s, old, replacement, count);
        };
      case "find":
      case "rfind":
      case "index":
      case "rindex":
      case "count":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          String sub = a.string(0, "sub", null, false);
          a.done();
          if (name.equals("count")) return PyStrings.count(s, sub);
          int at = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
          if (at < 0 && name.endsWith("index")) throw a.error("substring not found");
          return at < 0 ? -1L : (long) s.codePointCount(0, at);
        };
      case "join":
        return (args, kw, l) -> {
          Args a = new Args("str.join", args, kw, l);
          Object items = a.get(0, "iterable", Py.MISSING);
          a.done();
          StringBuilder sb = new StringBuilder();
          List<Object> list = Py.iterate(items, l);
          for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String str)) {
              throw a.error("sequence item " + i + ": expected str instance, " + Py.typeName(list.get(i)) + " found");
            }
            if (i > 0) sb.append(s);
            sb.append(str);
          }
          return sb.toString();
        };
      case "removeprefix":
      case "removesuffix":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          String affix = a.string(0, name.equals("removeprefix") ? "prefix" : "suffix", null, false);
          a.done();
          if (name.equals("removeprefix")) return s.startsWith(affix) ? s.substring(affix.length()) : s;
          return s.endsWith(affix) && !affix.isEmpty() ? s.substring(0, s.length() - affix.length()) : s;
        };
      case "partition":
      case "rpartition":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          String sep = a.string(0, "sep", null, false);
          a.done();
          if (sep.isEmpty()) throw a.error("empty separator");
          int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
          if (at < 0) {
            return name.equals("partition") ? new PyTuple(List.of(s, "", "")) : new PyTuple(List.of("", "", s));
          }
          return new PyTuple(List.of(s.substring(0, at), sep, s.substring(at + sep.length())));
        };
      case "isdigit":
      case "isdecimal":
      case "isnumeric":
        return noArgs(name, () -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit));
      case "isalpha":
        return noArgs(name, () -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter));
      case "isalnum":
        return noArgs(name, () -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit));
      case "isspace":
        return noArgs(name, () -> !s.isEmpty() && s.codePoints().allMatch(Py::isSpace));
      case "isupper":
        return noArgs(name, () -> PyStrings.hasCased(s) && s.equals(s.toUpperCase(java.util.Locale.ROOT)));
      case "islower":
        return noArgs(name, () -> PyStrings.hasCased(s) && s.equals(s.toLowerCase(java.util.Locale.ROOT)));
      case "isascii":
        return noArgs(name, () -> s.chars().allMatch(c -> c < 128));
      case "zfill":
      case "ljust":
      case "rjust":
      case "center":
        return (args, kw, l) -> {
          Args a = new Args("str." + name, args, kw, l);
          long width = a.integer(0, "width", 0);
          String fill = name.equals("zfill") ? "0" : a.string(1, "fillchar", " ", false);
          a.done();
          RenderLimits.checkChars(width, l);
          return PyStrings.pad(s, name, (int) width, fill);
        };
      default:
        throw unsupported("string", name, line);
    }
  }

  private static PyCallable noArgs(String name, java.util.function.Supplier<Object> body) {
    return (args, kw, l) -> {
      new Args(name, args, kw, l).done();
      return body.get();
    };
  }

  private static PyCallable dictMethod(Map<?, ?> map, String name, int line) {
    switch (name) {
      case "get":
        return (args, kw, l) -> {
          Args a = new Args("dict.get", args, kw, l);
          Object key = a.get(0, "key", Py.MISSING);
          Object fallback = a.get(1, "default", null);
          a.done();
          if (key == Py.MISSING) throw a.error("expected at least 1 argument");
          Object k = Py.findKey(map, key);
          return k == Py.MISSING ? fallback : map.get(k);
        };
      case "items":
        return noArgs(name, () -> {
          List<Object> out = new ArrayList<>();
          map.forEach((k, v) -> out.add(PyTuple.of(k, v)));
          return out;
        });
      case "keys":
        return noArgs(name, () -> new ArrayList<Object>(map.keySet()));
      case "values":
        return noArgs(name, () -> new ArrayList<Object>(map.values()));
      case "copy":
        return noArgs(name, () -> new java.util.LinkedHashMap<Object, Object>(map));
      default:
        throw unsupported("dict", name, line);
    }
  }

  private static PyCallable listMethod(List<?> list, String name, int line) {
    switch (name) {
      case "count":
        return (args, kw, l) -> {
          Args a = new Args("list.count", args, kw, l);
          Object x = a.get(0, "value", Py.MISSING);
          a.done();
          return list.stream().filter(y -> Py.eq(y, x)).count();
        };
      case "index":
        return (args, kw, l) -> {
          Args a = new Args("list.index", args, kw, l);
          Object x = a.get(0, "value", Py.MISSING);
          a.done();
          for (int i = 0; i < list.size(); i++) {
            if (Py.eq(list.get(i), x)) return (long) i;
          }
          throw a.error(Py.repr(x) + " is not in list");
        };
      case "copy":
        return noArgs(name, () -> new ArrayList<Object>(list));
      default:
        throw unsupported("list", name, line);
    }
  }
}
