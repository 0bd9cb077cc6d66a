package dev.amalgam.chat;

import java.util.List;

/** The {@code loop} variable inside a for loop (jinja2's LoopContext). */
final class LoopContext {
  private final List<Object> items;
  /** 1 for the loop as written, one more for each recursive {@code loop(...)} call. */
  private final int depth;
  /** Renders the loop over other items, for a recursive loop; null otherwise. */
  private final PyCallable recurse;
  /** The value loop.changed saw last; MISSING before its first call. */
  private Object lastChanged = Py.MISSING;
  int index0;

  LoopContext(List<Object> items, int depth, PyCallable recurse) {
    this.items = items;
    this.depth = depth;
    this.recurse = recurse;
  }

  /** {@code loop(items)}: the recursive loop's body rendered over {@code items}. */
  PyCallable recursion(int line) {
    if (recurse == null) {
      throw new TemplateError("Tried to call non recursive loop. Maybe you forgot the 'recursive' modifier.", line);
    }
    return recurse;
  }

  /** An attribute of {@code loop}, or null when it has no such attribute. */
  Object attribute(String name) {
    int length = items.size();
    switch (name) {
      case "index0": return (long) index0;
      case "index": return (long) index0 + 1;
      case "revindex0": return (long) (length - index0 - 1);
      case "revindex": return (long) (length - index0);
      case "first": return index0 == 0;
      case "last": return index0 == length - 1;
      case "length": return (long) length;
      case "depth": return (long) depth;
      case "depth0": return (long) depth - 1;
      case "previtem": return index0 > 0 ? items.get(index0 - 1) : Undefined.name("previtem");
      case "nextitem": return index0 < length - 1 ? items.get(index0 + 1) : Undefined.name("nextitem");
      case "cycle":
        return (PyCallable) (args, kwargs, line) -> {
          if (args.isEmpty()) {
            throw new TemplateError("loop.cycle() needs at least one value", line);
          }
          return args.get(index0 % args.size());
        };
      case "changed":
        return (PyCallable) (args, kwargs, line) -> {
          Object value = new PyTuple(args);
          if (lastChanged != Py.MISSING && Py.eq(value, lastChanged)) {
            return false;
          }
          lastChanged = value;
          return true;
        };
      default: return null;
    }
  }
}
