package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;

/**
 * mergekit's {@code passthrough}: one model's tensors as they are, each times its {@code scale} (1 when not
 * set), usually with filters; with {@code slices}, layers taken from several models and stacked (frankenmerges).
 */
final class PassthroughMerge implements MergeMethod {
  @Override
  public String name() {
    return "passthrough";
  }

  @Override
  public String displayName() {
    return "passthrough (a model's tensors as they are, or scaled; with slices, stacked layers)";
  }

  @Override
  public List<MethodParameter> parameters() {
    return List.of(MethodParameter.perModel("scale", 1.0, "multiplies the tensor"));
  }

  @Override
  public int maxModels() {
    return 1;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    Object scale = perModel.get(0).get("scale");
    if (scale != null && !(scale instanceof Number n && Float.isFinite(n.floatValue()))) {
      throw new UserError("models[0] scale for `" + tensorName + "` must be a finite number, not " + scale);
    }
    return new Weights(new float[] {scale == null ? 1f : ((Number) scale).floatValue()}, false);
  }
}
