package dev.amalgam.device;

import dev.amalgam.backend.Tensor;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.PlannedTensor;
import dev.amalgam.model.WeightSource;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Merges a sweep's points one after another on one device. The first point (or one whose tensors differ) is merged
 * into new weights, a model is built from them, and every later point is merged into that model's own weights in
 * place ({@link #mergeInto}): no allocation and no model to build, and on the GPU no upload either, since the inputs
 * stay in device memory from the first point on, where they fit.
 */
public interface PointMerger extends AutoCloseable {
  /** {@code plan} merged into new weights that a model on the device's backend is built from, as for generation. */
  WeightSource merge(MergePlan plan);

  /**
   * Merges {@code plan} into {@code weights} (a model's, by checkpoint name) in place, and returns true; or returns
   * false, having changed nothing, where they do not fit: a weight the plan lacks or shapes differently, or a
   * dtype this device does not write in place. Tensors the model does not hold (a tied lm_head) are not merged.
   */
  boolean mergeInto(MergePlan plan, Map<String, Tensor> weights);

  /** What a sweep of {@code plan}'s shape keeps in memory here, and whether it fits, in a sentence. */
  String memoryNeeds(MergePlan plan);

  @Override
  void close();

  /** {@code bytes} in GB, or MB below one GB, for the messages. */
  static String size(long bytes) {
    return bytes >= 1e9 ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
        : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }

  /** The plan's tensors that {@code weights} hold, or null where a weight is missing from the plan or shaped otherwise. */
  static List<PlannedTensor> matching(MergePlan plan, Map<String, Tensor> weights) {
    List<PlannedTensor> held = plan.tensors().stream().filter(t -> weights.containsKey(t.name())).toList();
    if (held.size() != weights.size()) {
      return null;
    }
    for (PlannedTensor tensor : held) {
      if (!Arrays.equals(tensor.shape(), weights.get(tensor.name()).shape())) {
        return null;
      }
    }
    return held;
  }
}
