package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.Arrays;
import java.util.List;

/**
 * mergekit's {@code sce} (select, calculate, erase; arXiv:2408.07990) over task vectors τᵢ = xᵢ − base:
 * <ol>
 *   <li>select: where {@code select_topk} &lt; 1, only the elements whose variance across the task vectors is
 *       among the {@code select_topk} fraction of largest (of those with nonzero variance) are kept, in every τᵢ;
 *   <li>calculate: each model's weight is its task vector's mean square, normalized over the models, per tensor;
 *   <li>erase: TIES' sign election over the unweighted τᵢ, then
 *       {@code base + Σ ωᵢ·τᵢ·[agrees] / max(Σ ωᵢ·[agrees], 1e-6)}.
 * </ol>
 * The weights come from the tensors, so models take no parameters: a {@code weight} is refused (mergekit
 * ignores it silently).
 */
final class SceMerge implements MergeMethod {
  @Override
  public String name() {
    return "sce";
  }

  @Override
  public String displayName() {
    return "SCE (variance-selected task vectors weighted by their energy, arXiv:2408.07990)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(
        MethodParameter.global("select_topk", 1.0, "the fraction of elements kept, by variance across the models"),
        MethodParameter.global("int8_mask", false, "mergekit's memory saving; no effect here"));
  }

  @Override
  public boolean taskVectors() {
    return true;
  }

  @Override
  public boolean signConsensus() {
    return true;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    Object topk = global.get("select_topk");
    if (topk != null && !(topk instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= 1)) {
      throw new UserError("parameters.select_topk for `" + tensorName + "` must be a number in (0, 1], not " + topk);
    }
    TaskVectorMerge.checkInt8Mask(global);
    // The weights are placeholders: the tensor's statistics replace them (TensorStatistics).
    float[] weights = new float[perModel.size()];
    Arrays.fill(weights, 1f);
    Number selectTopk = topk == null ? (Number) defaultOf("select_topk") : (Number) topk;
    return new Weights(weights, true, 1f, null, new SceSelection(selectTopk.doubleValue()));
  }

  /** SCE's selection: the fraction of elements, by variance across the task vectors, kept. */
  record SceSelection(double selectTopk) {}
}
