package dev.amalgam.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** jinja2's filters over sequences beyond the first set: min, max, batch, slice and groupby, with its semantics. */
final class CollectionFilters {
  private CollectionFilters() {}

  static void register() {
    Filters.register((r, v, a) -> extreme(r, v, a, false), "min");
    Filters.register((r, v, a) -> extreme(r, v, a, true), "max");
    Filters.register((r, v, a) -> {
      long size = a.integer(0, "linecount", 1);
      Object fill = a.get(1, "fill_with", null);
      a.done();
      if (size <= 0) throw a.error("linecount must be positive");
      List<Object> items = Py.iterate(v, a.line());
      List<Object> batches = new ArrayList<>();
      for (int i = 0; i < items.size(); i += (int) size) {
        List<Object> batch = new ArrayList<>(items.subList(i, (int) Math.min(items.size(), i + size)));
        while (fill != null && batch.size() < size) {
          batch.add(fill);
        }
        batches.add(batch);
      }
      return batches;
    }, "batch");
    Filters.register((r, v, a) -> {
      long slices = a.integer(0, "slices", 1);
      Object fill = a.get(1, "fill_with", null);
      a.done();
      if (slices <= 0) throw a.error("slices must be positive");
      List<Object> items = Py.iterate(v, a.line());
      int perSlice = (int) (items.size() / slices);
      int withExtra = (int) (items.size() % slices);
      int offset = 0;
      List<Object> out = new ArrayList<>();
      for (int n = 0; n < slices; n++) {
        int start = offset + n * perSlice;
        if (n < withExtra) {
          offset++;
        }
        int end = offset + (n + 1) * perSlice;
        List<Object> slice = new ArrayList<>(items.subList(start, end));
        if (fill != null && n >= withExtra) {
          slice.add(fill);
        }
        out.add(slice);
      }
      return out;
    }, "slice");
    Filters.register(CollectionFilters::groupby, "groupby");
  }

  /** jinja2's min and max: the item itself, by its (case-folded) value or attribute; Undefined when empty. */
  private static Object extreme(Renderer r, Object v, Args a, boolean largest) {
    boolean caseSensitive = a.bool(0, "case_sensitive", false);
    Object attribute = a.get(1, "attribute", null);
    a.done();
    Object best = null;
    Object bestKey = null;
    for (Object item : Py.iterate(v, a.line())) {
      Object key = Filters.sortKey(r, item, attribute, caseSensitive, a.line());
      int order = best == null ? 1 : Py.compare(key, bestKey, "<", a.line());
      if (best == null || (largest ? order > 0 : order < 0)) {
        best = item;
        bestKey = key;
      }
    }
    return best != null ? best : Undefined.name("No aggregated item, sequence was empty.");
  }

  /**
   * jinja2's groupby: items sorted by the (case-folded) attribute, then grouped; each group is a (grouper, list)
   * tuple, its grouper the attribute of the group's first item as it is.
   */
  private static Object groupby(Renderer r, Object v, Args a) {
    Object attribute = a.get(0, "attribute", null);
    Object fallback = a.get(1, "default", null);
    boolean caseSensitive = a.bool(2, "case_sensitive", false);
    a.done();
    List<Object> items = Py.iterate(v, a.line());
    Comparator<Object> byKey = (x, y) -> Py.compare(key(r, x, attribute, fallback, caseSensitive, a.line()),
        key(r, y, attribute, fallback, caseSensitive, a.line()), "<", a.line());
    items.sort(byKey);
    List<Object> groups = new ArrayList<>();
    List<Object> current = null;
    Object currentKey = null;
    for (Object item : items) {
      Object key = key(r, item, attribute, fallback, caseSensitive, a.line());
      if (current == null || !Py.eq(key, currentKey)) {
        current = new ArrayList<>();
        currentKey = key;
        groups.add(current);
      }
      current.add(item);
    }
    List<Object> out = new ArrayList<>();
    for (Object group : groups) {
      List<?> members = (List<?>) group;
      out.add(new GroupTuple(Filters.attributeOf(r, members.get(0), attribute, fallback, a.line()), members));
    }
    return out;
  }

  private static Object key(Renderer r, Object item, Object attribute, Object fallback, boolean caseSensitive,
      int line) {
    Object v = Filters.attributeOf(r, item, attribute, fallback, line);
    return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
  }
}
