package dev.amalgam.chat;

import java.util.AbstractList;
import java.util.List;

/** A Python tuple: an immutable list that prints as {@code (a, b)}; what {@code dict.items()} yields. */
class PyTuple extends AbstractList<Object> {
  private final List<Object> items;

  PyTuple(List<Object> items) {
    this.items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
  }

  static PyTuple of(Object a, Object b) {
    return new PyTuple(java.util.Arrays.asList(a, b));
  }

  @Override
  public Object get(int index) {
    return items.get(index);
  }

  @Override
  public int size() {
    return items.size();
  }
}
