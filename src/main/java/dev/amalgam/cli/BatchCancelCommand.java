package dev.amalgam.cli;

import dev.amalgam.batch.SlurmBatch;
import dev.amalgam.batch.SlurmCommands;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = {
      "Cancel the jobs of a batch's last --slurm submission that are still queued or running. Outputs already",
      "written stay; a merge cut short leaves nothing (every merge is atomic), and a later submission redoes it."
    },
    footer = {"", "Example:", "  amalgam batch cancel examples/batch.yml --out-dir /shared/batch"})
final class BatchCancelCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin
  BatchFileOptions batch;

  @Override
  public Integer call() {
    List<String> cancelled = SlurmBatch.cancel(batch.plan(), SlurmCommands.onPath());
    spec.commandLine().getOut().println(cancelled.isEmpty() ? "nothing queued or running"
        : "cancelled job" + (cancelled.size() == 1 ? " " : "s ") + String.join(", ", cancelled));
    return ExitCodes.OK;
  }
}
