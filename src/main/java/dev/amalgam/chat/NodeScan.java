package dev.amalgam.chat;

import java.lang.reflect.RecordComponent;
import java.util.Collection;

/** Searches a parsed template for a name, as jinja2 checks whether a macro's body uses varargs, kwargs or caller. */
final class NodeScan {
  private NodeScan() {}

  /** Whether {@code node} (a node, or a collection of them) reads the variable {@code name} anywhere inside. */
  static boolean mentions(Object node, String name) {
    if (node instanceof Node.Name n) {
      return n.name().equals(name);
    }
    if (node instanceof Collection<?> items) {
      return items.stream().anyMatch(item -> mentions(item, name));
    }
    if (node instanceof Record r && r.getClass().getEnclosingClass() == Node.class) {
      for (RecordComponent component : r.getClass().getRecordComponents()) {
        try {
          if (mentions(component.getAccessor().invoke(r), name)) {
            return true;
          }
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("cannot read " + component.getName() + " of " + r, e);
        }
      }
    }
    return false;
  }
}
