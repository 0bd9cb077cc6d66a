package dev.amalgam.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.model.KvCache;
import dev.amalgam.model.Transformer;
import dev.amalgam.model.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The merge → generate seam of one GPU device: weights merged in memory and taken over by the device's backend
 * give exactly the logits of the merged checkpoint loaded from disk, also when the merge's dtype is not bf16
 * and the backend converts on adoption.
 */
@Tag("gpu")
class CudaDeviceGpuTest {
  private static final Path EXAMPLES = Path.of("examples").toAbsolutePath();

  @TempDir Path dir;

  @ParameterizedTest(name = "merged as {0}")
  @ValueSource(strings = {"bfloat16", "float32"})
  void aMergeInMemoryGivesTheLogitsOfTheMergedCheckpoint(String dtype) throws IOException {
    // A float32 merge rounded once to bf16 on adoption is the exact merge the checkpoint holds, bit for bit.
    Path config = dir.resolve("linear.yml");
    Files.writeString(config, Files.readString(EXAMPLES.resolve("linear.yml"))
        .replace("model: qwen2-tiny", "model: " + EXAMPLES + "/qwen2-tiny").replace("dtype: bfloat16", "dtype: " + dtype));
    int[] ids = {463, 12, 87, 300, 5, 464, 17};
    try (Device device = Device.open(DeviceChoice.CUDA, Device.Settings.DEFAULT, "merging", notice -> {});
        ModelDirectory merged = ModelDirectory.open(EXAMPLES.resolve("qwen2-tiny-merged-linear"))) {
      Backend backend = device.backend();
      float[] expected;
      try (Transformer model = Transformer.load(backend, merged.config(), WeightSource.of(merged))) {
        expected = logits(backend, model, ids);
      }
      float[] actual;
      try (MergePlan plan = MergePlanner.plan(MergeConfig.load(config));
          WeightSource weights = device.mergeInMemory(plan, MergeEngine.MergeProgress.NONE);
          Transformer model = Transformer.load(backend, merged.config(), weights)) {
        actual = logits(backend, model, ids);
        // Taken over means gone from the source: a second model cannot take the same memory.
        assertThrows(UserError.class, () -> Transformer.load(backend, merged.config(), weights));
      }
      assertArrayEquals(expected, actual);
    }
  }

  private static float[] logits(Backend backend, Transformer model, int[] ids) {
    try (KvCache cache = model.newCache(1, ids.length)) {
      return backend.download(model.forward(ids, new int[ids.length], IntStream.range(0, ids.length).toArray(), cache,
          false));
    }
  }
}
