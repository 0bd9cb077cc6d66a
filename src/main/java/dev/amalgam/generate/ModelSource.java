package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import dev.amalgam.model.WeightSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * What generation takes as its model: a model folder, loaded as is, or a merge config, merged first on the
 * device that generates: on the GPU its results stay in GPU memory, where the backend takes them over as its
 * weights ({@link Device#mergeInMemory}), with no copy back to the host.
 */
public final class ModelSource {
  private ModelSource() {}

  /**
   * @param save where to also write a merge (as {@code amalgam merge} would), or null to keep it in memory
   * @param log told once how the merge went
   */
  public static LanguageModel open(Device device, Path model, Merger.OutputOptions save, Consumer<String> log) {
    if (Files.isDirectory(model)) {
      if (save != null) {
        throw new UserError("--save needs a merge config, not a model folder");
      }
      return LanguageModel.open(device.backend(), model);
    }
    if (!Files.isRegularFile(model)) {
      throw new UserError("model " + model + " does not exist");
    }
    try (MergePlan plan = MergePlanner.plan(MergeConfig.load(model))) {
      plan.notes().forEach(log);
      long start = System.nanoTime();
      LanguageModel merged;
      String where;
      if (save != null) {
        try (MergeEngine engine = device.mergeEngine()) {
          Merger.toDisk(plan, engine, save, MergeEngine.MergeProgress.NONE);
          where = "the merge on " + engine.device() + ", written to " + save.folder();
        }
        merged = LanguageModel.open(device.backend(), save.folder());
      } else {
        try (WeightSource weights = device.mergeInMemory(plan, MergeEngine.MergeProgress.NONE)) {
          merged = LanguageModel.fromWeights(device.backend(), plan.tokenizerDir(), plan.outputConfig(), weights);
          where = weights.description();
        }
      }
      // A drawn seed is the only way to repeat a random merge that is never written out: say it.
      String seed = plan.seedDrawn() ? " (random seed " + plan.config().randomSeed().orElseThrow()
          + " drawn; add `random_seed: " + plan.config().randomSeed().orElseThrow() + "` to the config to repeat it)"
          : "";
      log.accept(String.format(Locale.ROOT, "merged %d tensors in %.2f s: %s%s", plan.tensors().size(),
          (System.nanoTime() - start) / 1e9, where, seed));
      return merged;
    }
  }
}
