package dev.amalgam.chat;

import java.util.List;

/** The {@code loop} variable inside a for loop (jinja2's LoopContext, without recursion). */
final class LoopContext {
  private final List<Object> items;
  int index0;

  LoopContext(List<Object> items) {
    this.items = items;
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
      case "depth": return 1L;
      case "depth0": return 0L;
      case "previtem": return index0 > 0 ? items.get(index0 - 1) : Undefined.name("previtem");
      case "nextitem": return index0 < length - 1 ? items.get(index0 + 1) : Undefined.name("nextitem");
      case "cycle":
        return (PyCallable) (args, kwargs, line) -> {
          if (args.isEmpty()) {
            throw new TemplateError("loop.cycle() needs at least one value", line);
          }
          return args.get(index0 % args.size());
        };
      default: return null;
    }
  }
}
