package dev.amalgam.batch;

import dev.amalgam.UserError;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.device.Device;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.MergePlanner;
import dev.amalgam.merge.Merger;
import dev.amalgam.sweep.Sweep;
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
      if (merge.sweep()) {
        merge.sweepSpec(plan.file());  // its points are planned when it starts, before any merges
        continue;
      }
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
   * before it ran first). For a sweep, {@code NAME@I-N} runs its share I of N ({@link Sweep.Share}).
   */
  public static Outcome runOnly(BatchPlan plan, String name, Device device, Consumer<String> log) {
    int at = name.lastIndexOf('@');
    String item = at < 0 ? name : name.substring(0, at);
    BatchPlan.BatchMerge only = plan.merges().stream().filter(m -> m.name().equals(item)).findFirst()
        .orElseThrow(() -> new UserError("--only " + name + ": the batch has no merge of that name (it has "
            + String.join(", ", plan.merges().stream().map(BatchPlan.BatchMerge::name).toList()) + ")"));
    for (String need : only.needs()) {
      if (!merge(plan, need).upToDate()) {
        throw new UserError("merge `" + item + "` reads `" + need + "`, which is not merged (or not up to date)");
      }
    }
    if (at < 0) {
      return run(plan, List.of(only), device, log).get(0);
    }
    if (!only.sweep()) {
      throw new UserError("--only " + name + ": `" + item + "` is a merge; only a sweep is split into shares");
    }
    String[] share = name.substring(at + 1).split("-");
    if (share.length != 2 || !share[0].matches("\\d{1,4}") || !share[1].matches("\\d{1,4}")) {
      throw new UserError("--only " + name + ": a sweep's share is NAME@I-N, as 2 of 4 is s@2-4");
    }
    long start = System.nanoTime();
    Sweep.run(only.sweepSpec(plan.file()), only.output(), device, log,
        new Sweep.Share(Integer.parseInt(share[0]), Integer.parseInt(share[1])));
    return new Outcome(only, "swept (share " + share[0] + " of " + share[1] + ")", (System.nanoTime() - start) / 1e9);
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
      if (merge.sweep()) {
        Sweep.run(merge.sweepSpec(plan.file()), merge.output(), device, log);
        merge.recordSweepDone();
        outcomes.add(new Outcome(merge, "swept", (System.nanoTime() - start) / 1e9));
        continue;
      }
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
