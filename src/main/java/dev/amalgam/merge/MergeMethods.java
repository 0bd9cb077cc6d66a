package dev.amalgam.merge;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The merge methods amalgam implements, by their mergekit names. */
public final class MergeMethods {
  private static final Map<String, MergeMethod> BY_NAME = new LinkedHashMap<>();

  static {
    register(new LinearMerge());
  }

  private MergeMethods() {}

  private static void register(MergeMethod method) {
    BY_NAME.put(method.name(), method);
  }

  public static Set<String> names() {
    return BY_NAME.keySet();
  }

  public static Optional<MergeMethod> byName(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }
}
