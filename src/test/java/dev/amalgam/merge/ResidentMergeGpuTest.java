package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.UserError;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.device.ResidentWeights;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import dev.amalgam.tensor.DType;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The merge → generate seam on one context: weights merged with {@code mergeToDevice} and taken over by the
 * CUDA backend give exactly the logits of the merged checkpoint loaded from disk, also when the merge's out
 * dtype is not bf16 and the backend converts on adoption.
 */
class ResidentMergeGpuTest extends TinyMergeGpuTest {
  @ParameterizedTest(name = "merged as {0}")
  @ValueSource(strings = {"BF16", "F32"})
  void residentMergeGivesTheLogitsOfTheMergedCheckpoint(String outType) {
    // An F32 merge rounded once to bf16 on adoption is the exact merge the checkpoint holds, bit for bit.
    List<PlannedTensor> plan = ExampleModels.linearPlan(a, b, DType.valueOf(outType));
    int[] ids = {463, 12, 87, 300, 5, 464, 17};
    try (CudaBackend backend = CudaBackend.on(context, compiler)) {
      float[] expected;
      try (Transformer model = Transformer.load(backend, merged.config(), WeightSource.of(merged))) {
        expected = logits(backend, model, ids);
      }
      float[] actual;
      try (CudaMergeEngine engine = new CudaMergeEngine(context, compiler, CudaMergeEngine.DEFAULT_CHUNK_ELEMENTS);
          ResidentWeights weights = new ResidentWeights(
              engine.mergeToDevice(plan, TinyMergeGpuTest::map, MergeEngine.MergeProgress.NONE), "the merge");
          Transformer model = Transformer.load(backend, merged.config(), weights)) {
        actual = logits(backend, model, ids);
        // Taken over means gone from the source: a second model cannot take the same memory.
        assertThrows(UserError.class, () -> Transformer.load(backend, merged.config(), weights));
      }
      assertArrayEquals(expected, actual);
    }
  }

  private static float[] logits(CudaBackend backend, Transformer model, int[] ids) {
    try (KvCache cache = model.newCache(1, ids.length)) {
      return backend.download(model.forward(ids, new int[ids.length], IntStream.range(0, ids.length).toArray(), cache,
          false));
    }
  }

}
