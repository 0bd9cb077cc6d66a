package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.config.Suggestions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The merge methods amalgam implements, by their mergekit names. */
public final class MergeMethods {
  private static final Map<String, MergeMethod> BY_NAME = new LinkedHashMap<>();

  static {
    register(new LinearMerge());
    TaskVectorMerge.all().forEach(MergeMethods::register);
    register(new SceMerge());
    register(new ModelStockMerge());
    register(new SlerpMerge());
    register(new NuSlerpMerge());
    register(new MultiSlerpMerge());
    register(new KarcherMerge());
    register(new NearSwapMerge());
    register(new ArceeFusionMerge());
    register(new PassthroughMerge());
  }

  private MergeMethods() {}

  private static void register(MergeMethod method) {
    BY_NAME.put(method.name(), method);
  }

  public static Set<String> names() {
    return BY_NAME.keySet();
  }

  /** The method a config's {@code merge_method} names; an unknown name is a user error with a suggestion. */
  public static MergeMethod named(String name) {
    MergeMethod method = BY_NAME.get(name);
    if (method == null) {
      throw new UserError("unknown merge_method `" + name + "`" + Suggestions.hint(name, names())
          + " (supported: " + String.join(", ", names()) + ")");
    }
    return method;
  }
}
