package dev.amalgam.batch;

import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Slurm's command-line tools ({@code sbatch}, {@code scontrol}, {@code scancel}), behind one method so the
 * submission, polling and cancelling logic is tested without a cluster.
 */
public interface SlurmCommands {
  /** The command's stdout; a tool that fails or is missing is an error naming it, with its stderr. */
  String run(List<String> command);

  /** The tools on PATH, each run with a time limit. */
  static SlurmCommands onPath() {
    return command -> {
      Process process;
      try {
        process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
      } catch (IOException e) {
        throw new UserError("`" + command.get(0) + "` could not be run (" + e.getMessage() + "): is Slurm "
            + "installed, and its client tools on PATH?");
      }
      try {
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new UserError("`" + String.join(" ", command) + "` did not finish within 60 s");
        }
        if (process.exitValue() != 0) {
          throw new SlurmRefused(command, process.exitValue(), new String(err, StandardCharsets.UTF_8).strip());
        }
        return new String(out, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UserError("`" + String.join(" ", command) + "` failed: " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running " + command.get(0), e);
      }
    };
  }

  /** A Slurm tool that ran and said no: a user error, since it is about the cluster or what was asked of it. */
  final class SlurmRefused extends UserError {
    private final int exitCode;
    private final String stderr;

    public SlurmRefused(List<String> command, int exitCode, String stderr) {
      super("`" + String.join(" ", command.subList(0, Math.min(2, command.size()))) + "` failed (exit " + exitCode
          + ")" + (stderr.isEmpty() ? "" : ": " + stderr));
      this.exitCode = exitCode;
      this.stderr = stderr;
    }

    public int exitCode() {
      return exitCode;
    }

    public String stderr() {
      return stderr;
    }
  }
}
