package dev.amalgam.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A batch on Slurm: each stage's merges that are not up to date go in one job array, a task per merge, and each
 * stage waits for the ones before it ({@code --dependency=afterok}; a failure cancels what depends on it). The tasks
 * run the launcher of the amalgam that submitted them ({@code batch --only NAME}), so a cluster needs nothing
 * installed but a shared file system. The job ids go into {@code OUT_DIR/.amalgam-batch/jobs.json}, one log per
 * merge into {@code OUT_DIR/.amalgam-batch/logs/NAME.log}; {@link #status} and {@link #cancel} read them back.
 * A sweep is split over {@code sweepTasks} tasks of its stage's array ({@code NAME@I-N}, each its share of the
 * points), and a job after them gathers its results into the table and charts.
 */
public final class SlurmBatch {
  /** Lines of a failed merge's log that {@link #status} shows. */
  private static final int LOG_TAIL = 5;

  /**
   * Scheduler options for every job (null or empty for Slurm's defaults): partition, time limit, GPUs as
   * {@code --gres}, CPUs and memory per task, account, and any further sbatch arguments; {@code device}, where the
   * tasks merge.
   */
  public record Options(String partition, String time, String gres, Integer cpusPerTask, String mem, String account,
      List<String> extra, String device, int sweepTasks) {
    List<String> sbatchArguments() {
      List<String> arguments = new ArrayList<>();
      add(arguments, "--partition", partition);
      add(arguments, "--time", time);
      add(arguments, "--gres", gres);
      add(arguments, "--cpus-per-task", cpusPerTask == null ? null : cpusPerTask.toString());
      add(arguments, "--mem", mem);
      add(arguments, "--account", account);
      arguments.addAll(extra);
      return arguments;
    }

    private static void add(List<String> arguments, String option, String value) {
      if (value != null && !value.isEmpty()) {
        arguments.add(option + "=" + value);
      }
    }
  }

  /** One submitted job array: its stage, its id, and the merge (or sweep share) of each task, by task index. */
  public record Job(int stage, String id, List<String> merges) {}

  /** One merge's state: {@code done}, {@code pending}, {@code running}, {@code failed}, ..., with what explains it. */
  public record MergeState(String name, String state, String detail) {}

  private SlurmBatch() {}

  /**
   * Submits what is not up to date and returns the jobs; nothing when all is. Refused while jobs of an earlier
   * submission are still queued or running. {@code launcher} runs amalgam itself ({@code java -cp ... Main}).
   */
  public static List<Job> submit(BatchPlan plan, Options options, List<String> launcher, SlurmCommands slurm) {
    List<Job> active = activeJobs(plan, slurm);
    if (!active.isEmpty()) {
      throw new UserError("jobs " + active.stream().map(Job::id).collect(Collectors.joining(", ")) + " of an earlier "
          + "submission are still queued or running; wait for them, or `amalgam batch cancel`");
    }
    LocalBatch.check(plan);
    Path state = stateDir(plan);
    Path logs = state.resolve("logs");
    try {
      Files.createDirectories(logs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + logs, e);
    }
    Map<Integer, List<String>> stages = new LinkedHashMap<>();
    Map<Integer, List<String>> gathers = new LinkedHashMap<>();
    for (BatchPlan.BatchMerge merge : plan.merges()) {
      if (merge.upToDate()) {
        continue;
      }
      List<String> tasks = stages.computeIfAbsent(merge.stage(), s -> new ArrayList<>());
      if (merge.sweep()) {
        for (int share = 0; share < options.sweepTasks(); share++) {
          tasks.add(merge.name() + "@" + share + "-" + options.sweepTasks());
        }
        gathers.computeIfAbsent(merge.stage(), s -> new ArrayList<>()).add(merge.name());
      } else {
        tasks.add(merge.name());
      }
    }
    List<Job> jobs = new ArrayList<>();
    try {
      for (Map.Entry<Integer, List<String>> stage : stages.entrySet()) {
        jobs.add(submitArray(plan, stage.getKey(), stage.getValue(), jobs, options, launcher, slurm));
        List<String> gather = gathers.get(stage.getKey());
        if (gather != null) {
          jobs.add(submitArray(plan, stage.getKey(), gather, jobs, options, launcher, slurm));
        }
      }
    } catch (RuntimeException e) {
      cancelQuietly(jobs, slurm, e);
      throw e;
    }
    if (!jobs.isEmpty()) {
      writeJobs(plan, jobs);
    }
    return jobs;
  }

  /** One job array of {@code tasks}, waiting for every job before it. */
  private static Job submitArray(BatchPlan plan, int stage, List<String> tasks, List<Job> before, Options options,
      List<String> launcher, SlurmCommands slurm) {
    Path script = writeScript(plan, stage, before.size(), tasks, options, launcher);
    List<String> command = new ArrayList<>(List.of("sbatch", "--parsable",
        "--job-name=amalgam-" + plan.outDir().getFileName() + "-" + stage,
        "--array=0-" + (tasks.size() - 1),
        "--output=" + stateDir(plan).resolve("logs").resolve("slurm-%A_%a.out")));
    if (!before.isEmpty()) {
      command.add("--dependency=afterok:" + before.stream().map(Job::id).collect(Collectors.joining(":")));
      command.add("--kill-on-invalid-dep=yes");
    }
    command.addAll(options.sbatchArguments());
    command.add(script.toString());
    // --parsable prints "id" or "id;cluster".
    return new Job(stage, slurm.run(command).strip().split(";")[0], tasks);
  }

  /** Every merge's state, from its output on disk and from Slurm. */
  public static List<MergeState> status(BatchPlan plan, SlurmCommands slurm) {
    Map<String, Job> jobOf = new LinkedHashMap<>();
    for (Job job : readJobs(plan)) {
      job.merges().forEach(m -> jobOf.put(m, job));
    }
    Map<String, Map<Integer, SlurmJobs.TaskState>> tasksOf = new LinkedHashMap<>();
    Function<String, SlurmJobs.TaskState> taskOf = entry -> {
      Job job = jobOf.get(entry);
      return tasksOf.computeIfAbsent(job.id(), id -> tasks(id, slurm)).get(job.merges().indexOf(entry));
    };
    List<MergeState> states = new ArrayList<>();
    for (BatchPlan.BatchMerge merge : plan.merges()) {
      if (!jobOf.containsKey(merge.name())) {
        states.add(merge.upToDate() ? new MergeState(merge.name(), "done", merge.output().toString())
            : new MergeState(merge.name(), "not submitted", "not up to date, and no job of the last submission"));
        continue;
      }
      MergeState state = state(plan, merge, merge.name(), jobOf.get(merge.name()), taskOf.apply(merge.name()));
      if (merge.sweep() && (state.state().equals("cancelled") || state.state().equals("failed"))) {
        // A sweep's gathering is cancelled when a share failed: the share says why.
        for (String entry : jobOf.keySet()) {
          if (entry.startsWith(merge.name() + "@")) {
            MergeState share = state(plan, merge, entry, jobOf.get(entry), taskOf.apply(entry));
            if (share.state().equals("failed")) {
              state = new MergeState(merge.name(), "failed", "share " + entry + ": " + share.detail());
              break;
            }
          }
        }
      }
      states.add(state);
    }
    return states;
  }

  /** Cancels the last submission's jobs that are still queued or running; returns their ids. */
  public static List<String> cancel(BatchPlan plan, SlurmCommands slurm) {
    List<String> cancelled = new ArrayList<>();
    for (Job job : activeJobs(plan, slurm)) {
      slurm.run(List.of("scancel", job.id()));
      cancelled.add(job.id());
    }
    return cancelled;
  }

  /** The state of task {@code entry} (the merge, a sweep's share, or its gathering) of {@code merge}. */
  private static MergeState state(BatchPlan plan, BatchPlan.BatchMerge merge, String entry, Job job,
      SlurmJobs.TaskState task) {
    String where = "job " + job.id() + ", task " + job.merges().indexOf(entry);
    boolean share = !entry.equals(merge.name());
    if (task == null) {
      // Slurm forgets a job MinJobAge after it ends: the output says how it went.
      return merge.upToDate() ? new MergeState(merge.name(), "done", merge.output().toString())
          : new MergeState(merge.name(), "failed", where + " is gone from Slurm and left no output" + logTail(plan,
              entry));
    }
    return switch (task.state()) {
      case "COMPLETED" -> share || merge.upToDate() ? new MergeState(merge.name(), "done", merge.output().toString())
          : new MergeState(merge.name(), "failed", where + " completed, but the output is missing or stale"
              + logTail(plan, entry));
      case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED" ->
          new MergeState(merge.name(), task.state().toLowerCase(Locale.ROOT), where);
      case "CANCELLED" -> new MergeState(merge.name(), "cancelled", where);
      default -> new MergeState(merge.name(), "failed", where + ": " + task.state() + ", exit code "
          + task.exitCode() + (task.signal() == 0 ? "" : ", signal " + task.signal()) + logTail(plan, entry));
    };
  }

  private static String logTail(BatchPlan plan, String entry) {
    Path log = stateDir(plan).resolve("logs").resolve(entry + ".log");
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return "; last lines of " + log + ":\n    "
          + String.join("\n    ", lines.subList(Math.max(0, lines.size() - LOG_TAIL), lines.size()));
    } catch (IOException e) {
      return "; no log at " + log;
    }
  }

  private static List<Job> activeJobs(BatchPlan plan, SlurmCommands slurm) {
    return readJobs(plan).stream().filter(job -> tasks(job.id(), slurm).values().stream()
        .anyMatch(SlurmJobs.TaskState::active)).toList();
  }

  /** The tasks Slurm still knows of; none for a job it has forgotten ("Invalid job id"). */
  private static Map<Integer, SlurmJobs.TaskState> tasks(String id, SlurmCommands slurm) {
    try {
      return SlurmJobs.parse(slurm.run(List.of("scontrol", "show", "job", "-o", id)));
    } catch (SlurmCommands.SlurmRefused e) {
      if (e.stderr().contains("Invalid job id")) {
        return Map.of();
      }
      throw e;
    }
  }

  private static void cancelQuietly(List<Job> jobs, SlurmCommands slurm, RuntimeException failure) {
    for (Job job : jobs) {
      try {
        slurm.run(List.of("scancel", job.id()));
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
    }
  }

  /** A job script: each task runs the merge (or share) its index names, its output in that one's log. */
  private static Path writeScript(BatchPlan plan, int stage, int job, List<String> merges, Options options,
      List<String> launcher) {
    Path logs = stateDir(plan).resolve("logs");
    List<String> worker = new ArrayList<>(launcher);
    worker.addAll(List.of("batch", plan.file().toAbsolutePath().toString(), "--out-dir", plan.outDir().toString(),
        "--device", options.device()));
    String script = "#!/bin/bash\n"
        + "# amalgam batch " + plan.file().toAbsolutePath() + ", stage " + stage + ": a task per merge.\n"
        + "names=(" + merges.stream().map(SlurmBatch::quote).collect(Collectors.joining(" ")) + ")\n"
        + "name=${names[$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))]}\n"
        + "exec >" + quote(logs.toString()) + "/\"$name\".log 2>&1\n"
        + "exec " + worker.stream().map(SlurmBatch::quote).collect(Collectors.joining(" ")) + " --only \"$name\"\n";
    Path file = stateDir(plan).resolve("job-" + job + "-stage-" + stage + ".sbatch");
    try (AtomicFile out = AtomicFile.create(file)) {
      out.writer().write(script);
      out.commit();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }

  /** {@code text} as one bash word. */
  static String quote(String text) {
    return "'" + text.replace("'", "'\\''") + "'";
  }

  static Path stateDir(BatchPlan plan) {
    return plan.outDir().resolve(".amalgam-batch");
  }

  private static void writeJobs(BatchPlan plan, List<Job> jobs) {
    ObjectNode root = new ObjectMapper().createObjectNode().put("batch", plan.file().toAbsolutePath().toString());
    ArrayNode array = root.putArray("jobs");
    for (Job job : jobs) {
      ObjectNode node = array.addObject().put("stage", job.stage()).put("id", job.id());
      job.merges().forEach(node.putArray("merges")::add);
    }
    Path file = stateDir(plan).resolve("jobs.json");
    try (AtomicFile out = AtomicFile.create(file)) {
      out.writer().write(root.toPrettyString());
      out.commit();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static List<Job> readJobs(BatchPlan plan) {
    Path file = stateDir(plan).resolve("jobs.json");
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    try {
      List<Job> jobs = new ArrayList<>();
      for (JsonNode job : new ObjectMapper().readTree(file.toFile()).path("jobs")) {
        List<String> merges = new ArrayList<>();
        job.path("merges").forEach(m -> merges.add(m.asText()));
        jobs.add(new Job(job.path("stage").asInt(), job.path("id").asText(), merges));
      }
      return jobs;
    } catch (IOException e) {
      throw new UserError(file + " is not readable (" + e.getMessage() + "); delete it to submit afresh");
    }
  }
}
