package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.batch.BatchPlan;
import dev.amalgam.batch.LocalBatch;
import dev.amalgam.batch.SlurmBatch;
import dev.amalgam.batch.SlurmCommands;
import dev.amalgam.device.Device;
import dev.amalgam.device.DeviceChoice;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    subcommands = {BatchStatusCommand.class, BatchCancelCommand.class},
    description = {
      "Run several named merges from one file, in the form mergekit-multi reads: YAML documents separated by",
      "`---`, each a merge config with a `name`. A model may be an earlier merge's name: that merge runs first and",
      "its output is read. Each merge writes OUT_DIR/NAME. Names, models and cycles are checked before anything",
      "runs. A merge whose output was made from the same config and inputs (a hash recorded in its",
      "mergekit_config.yml) is skipped, so running the batch again finishes what is missing. A document may also be",
      "a sweep: `name` and `sweep:` holding a sweep file's mapping, its merge config inline (its models may be the",
      "batch's merges); it writes its results, table and charts into OUT_DIR/NAME.",
      "",
      "With --slurm, the merges go to Slurm instead: each stage's merges as one job array (a task per merge), each",
      "stage waiting for the ones before it, every task running this very amalgam (its java and jars) on a node, a",
      "log per merge in OUT_DIR/.amalgam-batch/logs. A sweep's points are split over --sweep-tasks tasks, and a job",
      "after them gathers the table and charts. `amalgam batch status` and `amalgam batch cancel` follow them.",
      "A document of the batch file holding only `slurm: {partition, time, gres, cpus_per_task, mem, account,",
      "sbatch_args, sweep_tasks}` gives defaults for these options; the flags win."
    },
    footer = {
      "",
      "Batch file:",
      "  name: ab",
      "  models:",
      "    - {model: qwen2-tiny-a, parameters: {weight: 0.3}}",
      "    - {model: qwen2-tiny-b, parameters: {weight: 0.7}}",
      "  merge_method: linear",
      "  dtype: bfloat16",
      "  ---",
      "  name: ab-then-a",
      "  models:",
      "    - {model: ab, parameters: {weight: 0.5}}         # the merge above",
      "    - {model: qwen2-tiny-a, parameters: {weight: 0.5}}",
      "  merge_method: linear",
      "  dtype: bfloat16",
      "",
      "Examples:",
      "  amalgam batch examples/batch.yml --out-dir /tmp/batch",
      "  amalgam batch examples/batch.yml --out-dir /tmp/batch --dry-run     the stages, and what is up to date",
      "  amalgam batch examples/batch.yml --out-dir /shared/batch --slurm --partition gpu --gres gpu:1 --time 1:00:00",
      "  amalgam batch status examples/batch.yml --out-dir /shared/batch",
      "  amalgam batch cancel examples/batch.yml --out-dir /shared/batch"
    })
final class BatchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin
  BatchFileOptions batch;

  @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
      converter = DeviceChoiceConverter.class, description = "Where to merge (default: ${DEFAULT-VALUE}).")
  DeviceChoice device;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores).")
  Integer threads;

  @Option(names = "--dry-run", description = "Check the batch and print its stages; merge nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print a JSON summary on stdout.")
  boolean json;

  @Option(names = "--only", paramLabel = "NAME",
      description = "Run merge NAME alone; what it reads must be up to date (what each Slurm task runs).")
  String only;

  @Option(names = "--slurm", description = "Submit the merges to Slurm (sbatch) and return with the job ids.")
  boolean slurm;

  @Option(names = "--partition", paramLabel = "NAME", description = "With --slurm: the partition.")
  String partition;

  @Option(names = "--time", paramLabel = "LIMIT", description = "With --slurm: each task's time limit (1:00:00).")
  String time;

  @Option(names = "--gres", paramLabel = "SPEC", description = "With --slurm: generic resources per task (gpu:1).")
  String gres;

  @Option(names = "--cpus-per-task", paramLabel = "N", description = "With --slurm: CPUs per task.")
  Integer cpusPerTask;

  @Option(names = "--mem", paramLabel = "SIZE", description = "With --slurm: memory per task (32G).")
  String mem;

  @Option(names = "--account", paramLabel = "NAME", description = "With --slurm: the account charged.")
  String account;

  @Option(names = "--sweep-tasks", paramLabel = "N",
      description = "With --slurm: the array tasks each sweep's points are split over (default: 2).")
  Integer sweepTasks;

  @Option(names = "--sbatch-arg", paramLabel = "ARG", description = "With --slurm: one more sbatch argument "
      + "(repeatable), as --sbatch-arg=--qos=high.")
  List<String> sbatchArgs = new ArrayList<>();

  @Override
  public Integer call() {
    if (threads != null && (threads < 1 || threads > 1024)) {
      throw new UserError("--threads must be between 1 and 1024, not " + threads);
    }
    if (sweepTasks != null && (sweepTasks < 1 || sweepTasks > 1000)) {
      throw new UserError("--sweep-tasks must be from 1 to 1000, not " + sweepTasks);
    }
    if (cpusPerTask != null && cpusPerTask < 1) {
      throw new UserError("--cpus-per-task must be 1 or more, not " + cpusPerTask);
    }
    BatchPlan plan = batch.plan();
    PrintWriter err = spec.commandLine().getErr();
    if (slurm) {
      if (dryRun || only != null) {
        throw new UserError("--slurm submits the whole batch: it does not go with --dry-run or --only");
      }
      return submit(plan);
    }
    if (only != null) {
      try (Device opened = Device.open(device, new Device.Settings(threads, false), "merging", err::println)) {
        print(plan, List.of(LocalBatch.runOnly(plan, only, opened, err::println)));
      }
      return ExitCodes.OK;
    }
    if (dryRun || plan.merges().stream().allMatch(BatchPlan.BatchMerge::upToDate)) {
      // What a run would do, without running: nothing at all where everything is up to date.
      if (dryRun) {
        LocalBatch.check(plan);
      }
      print(plan, plan.merges().stream().map(m -> new LocalBatch.Outcome(m,
          m.upToDate() ? "up to date" : m.sweep() ? "to sweep" : "to merge", 0)).toList());
      return ExitCodes.OK;
    }
    try (Device opened = Device.open(device, new Device.Settings(threads, false), "merging", err::println)) {
      print(plan, LocalBatch.run(plan, opened, err::println));
    }
    return ExitCodes.OK;
  }

  private int submit(BatchPlan plan) {
    // Flags win over the batch file's `slurm:` document.
    JsonNode file = plan.slurm();
    List<String> extra = new ArrayList<>();
    file.path("sbatch_args").forEach(a -> extra.add(a.asText()));
    extra.addAll(sbatchArgs);
    SlurmBatch.Options options = new SlurmBatch.Options(or(partition, file, "partition"), or(time, file, "time"),
        or(gres, file, "gres"), cpusPerTask != null ? cpusPerTask
            : file.has("cpus_per_task") ? Integer.valueOf(file.get("cpus_per_task").asInt()) : null,
        or(mem, file, "mem"), or(account, file, "account"), extra, device.name().toLowerCase(Locale.ROOT),
        sweepTasks != null ? sweepTasks : file.path("sweep_tasks").asInt(2));
    List<SlurmBatch.Job> jobs = SlurmBatch.submit(plan, options, launcher(), SlurmCommands.onPath());
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ArrayNode array = new ObjectMapper().createArrayNode();
      for (SlurmBatch.Job job : jobs) {
        ObjectNode node = array.addObject().put("stage", job.stage()).put("job_id", job.id());
        job.merges().forEach(node.putArray("merges")::add);
      }
      out.println(array.toPrettyString());
    } else if (jobs.isEmpty()) {
      out.println("every merge is up to date: nothing submitted");
    } else {
      for (SlurmBatch.Job job : jobs) {
        out.println("stage " + job.stage() + ": job " + job.id() + " (" + String.join(", ", job.merges()) + ")");
      }
      out.println("follow them with: amalgam batch status " + plan.file() + " --out-dir " + plan.outDir());
    }
    return ExitCodes.OK;
  }

  private static String or(String flag, JsonNode file, String key) {
    return flag != null ? flag : file.hasNonNull(key) ? file.get(key).asText() : null;
  }

  /** This amalgam's own command line: its java, its jars by absolute path, its main class. */
  private static List<String> launcher() {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .map(entry -> Path.of(entry).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator));
    return List.of(java, "-cp", classPath, Main.class.getName());
  }

  private void print(BatchPlan plan, List<LocalBatch.Outcome> outcomes) {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = new ObjectMapper().createObjectNode().put("batch", plan.file().toString())
          .put("out_dir", plan.outDir().toString()).put("stages", plan.stages());
      ArrayNode merges = root.putArray("merges");
      for (LocalBatch.Outcome outcome : outcomes) {
        ObjectNode merge = merges.addObject().put("name", outcome.merge().name())
            .put("stage", outcome.merge().stage()).put("output", outcome.merge().output().toString())
            .put("status", outcome.status()).put("seconds", outcome.seconds());
        outcome.merge().needs().forEach(merge.putArray("needs")::add);
      }
      out.println(root.toPrettyString());
      return;
    }
    for (int stage = 0; stage < plan.stages(); stage++) {
      out.println("stage " + stage + ":");
      for (LocalBatch.Outcome outcome : outcomes) {
        if (outcome.merge().stage() == stage) {
          out.println(String.format(Locale.ROOT, "  %-20s %-10s %s%s", outcome.merge().name(), outcome.status(),
              outcome.merge().output(), outcome.merge().needs().isEmpty() ? ""
                  : "  (reads " + String.join(", ", outcome.merge().needs()) + ")"));
        }
      }
    }
  }
}
