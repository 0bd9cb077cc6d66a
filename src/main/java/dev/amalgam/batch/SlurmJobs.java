package dev.amalgam.batch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Slurm says of a job array, from {@code scontrol show job -o ID}: one line per task (or one line for the tasks
 * not yet started, {@code ArrayTaskId=2-3}), each with its state and exit code. Without accounting ({@code sacct}
 * needs a database), this is what a cluster always has, for {@code MinJobAge} after the job ends.
 */
public final class SlurmJobs {
  private static final Pattern TASKS = Pattern.compile("\\bArrayTaskId=([0-9,\\-]+)");
  private static final Pattern STATE = Pattern.compile("\\bJobState=([A-Z_]+)");
  private static final Pattern EXIT = Pattern.compile("\\bExitCode=(\\d+):(\\d+)");

  /** One task's state ({@code PENDING}, {@code RUNNING}, {@code COMPLETED}, {@code FAILED}, ...) and exit code. */
  public record TaskState(String state, int exitCode, int signal) {
    public boolean active() {
      return state.equals("PENDING") || state.equals("RUNNING") || state.equals("CONFIGURING")
          || state.equals("COMPLETING") || state.equals("SUSPENDED") || state.equals("REQUEUED");
    }
  }

  private SlurmJobs() {}

  /** Each array task's state, by task index, from {@code scontrol show job -o}'s output. */
  public static Map<Integer, TaskState> parse(String scontrolOutput) {
    Map<Integer, TaskState> tasks = new LinkedHashMap<>();
    for (String line : scontrolOutput.split("\n")) {
      Matcher state = STATE.matcher(line);
      if (!state.find()) {
        continue;
      }
      Matcher exit = EXIT.matcher(line);
      TaskState task = exit.find()
          ? new TaskState(state.group(1), Integer.parseInt(exit.group(1)), Integer.parseInt(exit.group(2)))
          : new TaskState(state.group(1), 0, 0);
      Matcher ids = TASKS.matcher(line);
      for (int index : ids.find() ? indices(ids.group(1)) : List.of(0)) {
        tasks.put(index, task);
      }
    }
    return tasks;
  }

  /** {@code 0-3,5} as 0, 1, 2, 3, 5. */
  private static List<Integer> indices(String list) {
    List<Integer> indices = new ArrayList<>();
    for (String part : list.split(",")) {
      String[] range = part.split("-");
      int from = Integer.parseInt(range[0]);
      int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
      for (int i = from; i <= to; i++) {
        indices.add(i);
      }
    }
    return indices;
  }
}
