package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The tiny demo checkpoints in {@code examples/} (tests run from the repository root) and their merge plan. */
final class ExampleModels {
  static final float[] WEIGHTS = {0.3f, 0.7f};

  private ExampleModels() {}

  static Path dir(String name) {
    Path dir = Path.of("examples", name);
    assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing; run the tests from the repository root");
    return dir;
  }

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
