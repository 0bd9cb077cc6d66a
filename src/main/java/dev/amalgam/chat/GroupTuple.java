package dev.amalgam.chat;

import java.util.Arrays;
import java.util.List;

/** One group of jinja2's groupby: a (grouper, list) tuple whose parts are also its attributes. */
final class GroupTuple extends PyTuple {
  GroupTuple(Object grouper, List<?> members) {
    super(Arrays.asList(grouper, members));
  }

  /** {@code grouper} or {@code list}; null for any other name. */
  Object attribute(String name) {
    return switch (name) {
      case "grouper" -> get(0);
      case "list" -> get(1);
      default -> null;
    };
  }
}
