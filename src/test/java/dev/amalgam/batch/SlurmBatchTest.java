package dev.amalgam.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Submission, state polling and cancelling against a scripted Slurm (no cluster): the commands amalgam runs, how
 * it reads scontrol's answers, and what it tells the user. {@code SlurmClusterTest} runs the same on a real one.
 */
class SlurmBatchTest {
  private static final List<String> LAUNCHER = List.of("/opt/java/bin/java", "-cp", "/opt/amalgam.jar",
      "dev.amalgam.cli.Main");
  private static final SlurmBatch.Options OPTIONS = new SlurmBatch.Options("gpu", "1:00:00", "gpu:1", 4, "32G",
      "lab", List.of("--qos=high"), "cuda", 2);

  @TempDir Path dir;

  /** A Slurm that answers each command with what {@code answer} returns, recording the commands. */
  private record ScriptedSlurm(List<List<String>> commands, Function<List<String>, String> answer)
      implements SlurmCommands {
    ScriptedSlurm(Function<List<String>, String> answer) {
      this(new ArrayList<>(), answer);
    }

    @Override
    public String run(List<String> command) {
      commands.add(command);
      return answer.apply(command);
    }
  }

  @Test
  void eachStageIsAnArrayThatWaitsForTheStagesBeforeIt() throws Exception {
    BatchPlan plan = BatchPlan.load(Path.of("examples/batch.yml"), dir.resolve("out"));
    int[] next = {41};
    ScriptedSlurm slurm = new ScriptedSlurm(c -> c.get(0).equals("sbatch") ? (next[0]++) + ";cluster\n" : "");

    List<SlurmBatch.Job> jobs = SlurmBatch.submit(plan, OPTIONS, LAUNCHER, slurm);

    assertEquals(List.of(new SlurmBatch.Job(0, "41", List.of("ab", "ba")), new SlurmBatch.Job(1, "42",
        List.of("middle")), new SlurmBatch.Job(2, "43", List.of("toward-prose@0-2", "toward-prose@1-2")),
        new SlurmBatch.Job(2, "44", List.of("toward-prose"))), jobs);
    List<String> first = slurm.commands().get(0);
    assertEquals("sbatch", first.get(0));
    assertTrue(first.containsAll(List.of("--parsable", "--array=0-1", "--partition=gpu", "--time=1:00:00",
        "--gres=gpu:1", "--cpus-per-task=4", "--mem=32G", "--account=lab", "--qos=high")), first.toString());
    assertTrue(first.stream().noneMatch(a -> a.startsWith("--dependency")), "stage 0 waits for nothing");
    List<String> second = slurm.commands().get(1);
    assertTrue(second.containsAll(List.of("--array=0-0", "--dependency=afterok:41", "--kill-on-invalid-dep=yes")),
        second.toString());
    // The sweep's shares, then its gathering, each after everything before it.
    assertTrue(slurm.commands().get(2).containsAll(List.of("--array=0-1", "--dependency=afterok:41:42")));
    assertTrue(slurm.commands().get(3).containsAll(List.of("--array=0-0", "--dependency=afterok:41:42:43")));
    String shares = Files.readString(Path.of(slurm.commands().get(2).get(slurm.commands().get(2).size() - 1)));
    assertTrue(shares.contains("names=('toward-prose@0-2' 'toward-prose@1-2')"), shares);
    String script = Files.readString(Path.of(first.get(first.size() - 1)));
    assertTrue(first.get(first.size() - 1).endsWith("job-0-stage-0.sbatch"), first.toString());
    assertTrue(script.contains("names=('ab' 'ba')"), script);
    assertTrue(script.contains("exec '/opt/java/bin/java' '-cp' '/opt/amalgam.jar' 'dev.amalgam.cli.Main' 'batch' '"
        + Path.of("examples/batch.yml").toAbsolutePath() + "' '--out-dir' '" + dir.resolve("out") + "' '--device' "
        + "'cuda' --only \"$name\""), script);
    assertTrue(Files.readString(dir.resolve("out/.amalgam-batch/jobs.json")).contains("\"id\" : \"42\""));
  }

  @Test
  void statesComeFromScontrolAndFailuresShowTheirLog() throws Exception {
    BatchPlan plan = BatchPlan.load(Path.of("examples/batch.yml"), dir.resolve("out"));
    int[] next = {7};
    SlurmBatch.submit(plan, OPTIONS, LAUNCHER, new ScriptedSlurm(c -> (next[0]++) + "\n"));
    Files.writeString(dir.resolve("out/.amalgam-batch/logs/ba.log"), "merging\nerror: --device cuda, but there is "
        + "no GPU backend\n");
    Map<String, String> scontrol = Map.of(
        "7", "JobId=9 ArrayJobId=7 ArrayTaskId=0 JobName=x JobState=RUNNING Reason=None ExitCode=0:0\n"
            + "JobId=7 ArrayJobId=7 ArrayTaskId=1 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=2:0\n",
        "8", "JobId=8 ArrayJobId=8 ArrayTaskId=0 JobName=x JobState=PENDING Reason=Dependency ExitCode=0:0\n",
        "9", "JobId=9 ArrayJobId=9 ArrayTaskId=0-1 JobName=x JobState=PENDING Reason=Dependency ExitCode=0:0\n",
        "10", "JobId=10 ArrayJobId=10 ArrayTaskId=0 JobName=x JobState=PENDING Reason=Dependency ExitCode=0:0\n");
    List<SlurmBatch.MergeState> states = SlurmBatch.status(plan,
        new ScriptedSlurm(c -> scontrol.get(c.get(c.size() - 1))));
    assertEquals("running", states.get(0).state());
    assertEquals("failed", states.get(1).state());
    assertTrue(states.get(1).detail().contains("FAILED, exit code 2") && states.get(1).detail().contains(
        "no GPU backend"), states.get(1).detail());
    assertEquals("pending", states.get(2).state());
    assertEquals("pending", states.get(3).state());
    // Jobs still running: a new submission is refused, and cancel reaches every array.
    ScriptedSlurm slurm = new ScriptedSlurm(c -> c.get(0).equals("scontrol") ? scontrol.get(c.get(c.size() - 1)) : "");
    UserError refused = assertThrows(UserError.class, () -> SlurmBatch.submit(plan, OPTIONS, LAUNCHER, slurm));
    assertTrue(refused.getMessage().contains("still queued or running"), refused.getMessage());
    assertEquals(List.of("7", "8", "9", "10"), SlurmBatch.cancel(plan, slurm));
    assertTrue(slurm.commands().contains(List.of("scancel", "7")) && slurm.commands().contains(List.of("scancel", "8")));
  }

  @Test
  void aSweepWhoseShareFailedSaysWhichAndWhy() throws Exception {
    BatchPlan plan = BatchPlan.load(Path.of("examples/batch.yml"), dir.resolve("out"));
    int[] next = {1};
    SlurmBatch.submit(plan, OPTIONS, LAUNCHER, new ScriptedSlurm(c -> (next[0]++) + "\n"));
    Files.writeString(dir.resolve("out/.amalgam-batch/logs/toward-prose@1-2.log"), "error: out of memory\n");
    Map<String, String> scontrol = Map.of(
        "1", "JobId=1 ArrayTaskId=0-1 JobState=COMPLETED ExitCode=0:0\n",
        "2", "JobId=2 ArrayTaskId=0 JobState=COMPLETED ExitCode=0:0\n",
        "3", "JobId=3 ArrayTaskId=0 JobState=COMPLETED ExitCode=0:0\nJobId=4 ArrayTaskId=1 JobState=FAILED ExitCode=1:0\n",
        "4", "JobId=5 ArrayTaskId=0 JobState=CANCELLED ExitCode=0:0\n");
    SlurmBatch.MergeState sweep = SlurmBatch.status(plan, new ScriptedSlurm(c -> scontrol.get(c.get(c.size() - 1))))
        .get(3);
    assertEquals("failed", sweep.state());
    assertTrue(sweep.detail().startsWith("share toward-prose@1-2: job 3, task 1: FAILED, exit code 1")
        && sweep.detail().contains("out of memory"), sweep.detail());
  }

  @Test
  void aJobSlurmForgotIsJudgedByItsOutput() throws Exception {
    BatchPlan plan = BatchPlan.load(Path.of("examples/batch.yml"), dir.resolve("out"));
    SlurmBatch.submit(plan, OPTIONS, LAUNCHER, new ScriptedSlurm(c -> "5\n"));
    SlurmCommands forgotten = command -> {
      throw new SlurmCommands.SlurmRefused(command, 1, "slurm_load_jobs error: Invalid job id specified");
    };
    List<SlurmBatch.MergeState> states = SlurmBatch.status(plan, forgotten);
    assertEquals("failed", states.get(0).state());
    assertTrue(states.get(0).detail().contains("gone from Slurm and left no output"), states.get(0).detail());
  }

  @Test
  void scontrolLinesGiveEachTasksStateAndExitCode() {
    Map<Integer, SlurmJobs.TaskState> tasks = SlurmJobs.parse(
        "JobId=12 ArrayJobId=10 ArrayTaskId=2-3,5 JobName=a JobState=PENDING Reason=Priority ExitCode=0:0\n"
            + "JobId=11 ArrayJobId=10 ArrayTaskId=1 JobName=a JobState=CANCELLED Reason=None ExitCode=0:15\n"
            + "JobId=10 ArrayJobId=10 ArrayTaskId=0 JobName=a JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0\n");
    assertEquals(new SlurmJobs.TaskState("FAILED", 3, 0), tasks.get(0));
    assertEquals(new SlurmJobs.TaskState("CANCELLED", 0, 15), tasks.get(1));
    assertEquals(List.of(0, 1, 2, 3, 5), tasks.keySet().stream().sorted().toList());
    assertTrue(tasks.get(5).active());
  }

  @Test
  void aMissingSbatchIsAClearError() throws Exception {
    BatchPlan plan = BatchPlan.load(Path.of("examples/batch.yml"), dir.resolve("out"));
    SlurmCommands missing = command -> SlurmCommands.onPath().run(List.of("/nonexistent/sbatch", "--parsable"));
    UserError error = assertThrows(UserError.class, () -> SlurmBatch.submit(plan, OPTIONS, LAUNCHER, missing));
    assertTrue(error.getMessage().contains("is Slurm installed"), error.getMessage());
  }
}
