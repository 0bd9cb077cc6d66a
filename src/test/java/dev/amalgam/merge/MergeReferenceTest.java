package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.io.ModelDirectory;
import dev.amalgam.tensor.DType;
import dev.amalgam.testing.Fixtures;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the Java reference that the GPU tests compare the kernel with: it must reproduce the oracle's exact
 * linear merge bit for bit, so "kernel equals reference" means "kernel equals transformers/torch".
 */
class MergeReferenceTest {

  @Test
  void referenceReproducesTheFixtureMergeBitForBit() {
    try (ModelDirectory a = ModelDirectory.open(Fixtures.A);
        ModelDirectory b = ModelDirectory.open(Fixtures.B);
        ModelDirectory expected = ModelDirectory.open(Fixtures.MERGED)) {
      for (PlannedTensor tensor : ExampleModels.linearPlan(a, b, DType.BF16)) {
        ByteBuffer merged = MergeReference.merge(
            List.of(a.map(tensor.inputs().get(0)), b.map(tensor.inputs().get(1))),
            List.of(DType.BF16, DType.BF16), tensor.weights(), true, tensor.divisor(), DType.BF16,
            Math.toIntExact(tensor.elementCount()));
        ByteBuffer oracle = expected.map(expected.tensor(tensor.name()).orElseThrow());
        assertEquals(oracle, merged.rewind(), tensor.name());
      }
    }
  }
}
