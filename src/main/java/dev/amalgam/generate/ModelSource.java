package dev.amalgam.generate;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.device.ResidentWeights;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.merge.CpuMergeEngine;
import dev.amalgam.merge.CudaMergeEngine;
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
 * device that generates. On the GPU the merge runs on the backend's own context and its results stay there:
 * the backend takes them over as its weights ({@link ResidentWeights}), with no copy back to the host.
 */
public final class ModelSource {
  private ModelSource() {}

  /**
   * @param save where to also write a merge (as {@code amalgam merge} would), or null to keep it in memory
   * @param log told once how the merge went
   */
  public static LanguageModel open(Backend backend, Path model, Merger.OutputOptions save, Consumer<String> log) {
    if (Files.isDirectory(model)) {
      if (save != null) {
        throw new UserError("--save needs a merge config, not a model folder");
      }
      return LanguageModel.open(backend, model);
    }
    if (!Files.isRegularFile(model)) {
      throw new UserError("model " + model + " does not exist");
    }
    try (MergePlan plan = MergePlanner.plan(MergeConfig.load(model))) {
      long start = System.nanoTime();
      LanguageModel merged;
      String where;
      if (save != null) {
        try (MergeEngine engine = engineFor(backend)) {
          Merger.toDisk(plan, engine, save, MergeEngine.MergeProgress.NONE);
          where = "the merge on " + engine.device() + ", written to " + save.folder();
        }
        merged = LanguageModel.open(backend, save.folder());
      } else {
        try (WeightSource weights = mergeFor(backend, plan)) {
          merged = LanguageModel.fromWeights(backend, plan.templateModel().dir(), weights);
          where = weights.description();
        }
      }
      log.accept(String.format(Locale.ROOT, "merged %d tensors in %.2f s: %s", plan.tensors().size(),
          (System.nanoTime() - start) / 1e9, where));
      return merged;
    }
  }

  /**
   * Merges {@code plan} where {@code backend} computes, into weights a model on that backend can be built from
   * without touching disk: device-resident on the GPU, host memory on the CPU. The caller closes the source
   * once the model is built, which frees whatever the model did not take over.
   */
  public static WeightSource mergeFor(Backend backend, MergePlan plan) {
    try (MergeEngine engine = engineFor(backend)) {
      if (engine instanceof CudaMergeEngine gpu) {
        return new ResidentWeights(gpu.mergeToDevice(plan.tensors(), plan, MergeEngine.MergeProgress.NONE),
            "the merge on " + gpu.device() + ", held in memory on the GPU");
      }
      return WeightSource.of(Merger.toMemory(plan, engine, MergeEngine.MergeProgress.NONE),
          "the merge on " + engine.device() + ", held in memory");
    }
  }

  /** The merge runs where generation runs: on the CUDA backend's context, or on the CPU. */
  private static MergeEngine engineFor(Backend backend) {
    if (backend instanceof CudaBackend cuda) {
      return new CudaMergeEngine(cuda.context());
    }
    return new CpuMergeEngine();
  }
}
