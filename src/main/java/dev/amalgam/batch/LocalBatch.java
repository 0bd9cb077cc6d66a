package dev.amalgam.batch;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a batch's merges on this machine, in dependency order. A merge whose output is up to date (made from the
 * same config and inputs) is skipped, so a rerun finishes what is missing; an older output of the merge is replaced
 * once the new one is complete, as {@code amalgam merge --overwrite} replaces it.
 */
public final class LocalBatch {
  /** Largest shard written, as amalgam merge's default. */
  private static final long SHARD_BYTES = 5_000_000_000L;

  /** What happened to one merge: {@code merged} (in {@code seconds}) or {@code up to date}. */
  public record Outcome(BatchPlan.BatchMerge merge, String status, double seconds) {}

  private LocalBatch() {}

  /**
   * Checks every merge that can be checked before anything runs, as amalgam merge checks a config before reading a
   * tensor: those of existing models, and those whose inputs are already up to date. The others are checked when
   * their inputs exist.
   */
  public static void check(BatchPlan plan) {
    for (BatchPlan.BatchMerge merge : plan.merges()) {
      boolean inputsThere = merge.needs().stream().allMatch(need -> merge(plan, need).upToDate());
      if (inputsThere) {
        MergePlanner.plan(merge.mergeConfig(plan.file())).close();
      }
    }
  }

  public static List<Outcome> run(BatchPlan plan, Device device, Consumer<String> log) {
    check(plan);
    return run(plan, plan.merges(), device, log);
  }

  /**
   * Runs merge {@code name} alone, as a Slurm task does: what it reads must be up to date already (the stages
   * before it ran first).
   */
  public static Outcome runOnly(BatchPlan plan, String name, Device device, Consumer<String> log) {
    BatchPlan.BatchMerge only = plan.merges().stream().filter(m -> m.name().equals(name)).findFirst()
        .orElseThrow(() -> new UserError("--only " + name + ": the batch has no merge of that name (it has "
            + String.join(", ", plan.merges().stream().map(BatchPlan.BatchMerge::name).toList()) + ")"));
    for (String need : only.needs()) {
      if (!merge(plan, need).upToDate()) {
        throw new UserError("merge `" + name + "` reads `" + need + "`, which is not merged (or not up to date)");
      }
    }
    return run(plan, List.of(only), device, log).get(0);
  }

  private static List<Outcome> run(BatchPlan plan, List<BatchPlan.BatchMerge> merges, Device device,
      Consumer<String> log) {
    try {
      Files.createDirectories(plan.outDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + plan.outDir(), e);
    }
    List<Outcome> outcomes = new ArrayList<>();
    int index = 0;
    for (BatchPlan.BatchMerge merge : merges) {
      index++;
      String where = "merge " + index + "/" + merges.size() + " `" + merge.name() + "`";
      if (merge.upToDate()) {
        log.accept(where + ": up to date (" + merge.output() + ")");
        outcomes.add(new Outcome(merge, "up to date", 0));
        continue;
      }
      log.accept(where + " (stage " + merge.stage() + ") -> " + merge.output());
      long start = System.nanoTime();
      MergeConfig config = merge.mergeConfig(plan.file());
      try (MergePlan mergePlan = MergePlanner.plan(config); MergeEngine engine = device.mergeEngine()) {
        mergePlan.notes().forEach(log);
        if (mergePlan.seedDrawn()) {
          log.accept("random seed " + mergePlan.config().randomSeed().orElseThrow() + " (drawn; recorded in "
              + merge.output().resolve("mergekit_config.yml") + ")");
        }
        Merger.toDisk(mergePlan, engine, new Merger.OutputOptions(merge.output(), true, SHARD_BYTES, true, log),
            MergeEngine.MergeProgress.NONE);
      }
      outcomes.add(new Outcome(merge, "merged", (System.nanoTime() - start) / 1e9));
    }
    return outcomes;
  }

  private static BatchPlan.BatchMerge merge(BatchPlan plan, String name) {
    return plan.merges().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }
}
