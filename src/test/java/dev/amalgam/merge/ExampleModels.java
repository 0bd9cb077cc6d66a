package dev.amalgam.merge;

import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.util.ArrayList;
import java.util.List;

/** The merge plan of the tiny demo checkpoints, {@code Fixtures.A} and {@code Fixtures.B}, built without a config. */
final class ExampleModels {
  static final float[] WEIGHTS = {0.3f, 0.7f};

  private ExampleModels() {}

  /** The fixture merge: 0.3·a + 0.7·b, normalized, every tensor, in a's order. */
  static List<PlannedTensor> linearPlan(ModelDirectory a, ModelDirectory b, DType outType) {
    List<PlannedTensor> plan = new ArrayList<>();
    for (TensorInfo first : a.tensors()) {
      TensorInfo second = b.tensor(first.name()).orElseThrow();
      plan.add(new PlannedTensor(first.name(), first.shape(), List.of(first, second), WEIGHTS, true, outType));
    }
    return plan;
  }
}
