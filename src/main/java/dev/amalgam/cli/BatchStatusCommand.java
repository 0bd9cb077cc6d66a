package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.amalgam.batch.SlurmBatch;
import dev.amalgam.batch.SlurmCommands;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Each merge of a batch submitted with --slurm: done (its output is up to date), pending, running, failed (with",
      "its exit code and the last lines of its log), cancelled, or not submitted; from Slurm and from the outputs."
    },
    footer = {"", "Example:", "  amalgam batch status examples/batch.yml --out-dir /shared/batch --json"})
final class BatchStatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin
  BatchFileOptions batch;

  @Option(names = "--json", description = "Print JSON on stdout.")
  boolean json;

  @Override
  public Integer call() {
    List<SlurmBatch.MergeState> states = SlurmBatch.status(batch.plan(), SlurmCommands.onPath());
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ArrayNode array = new ObjectMapper().createArrayNode();
      states.forEach(s -> array.addObject().put("name", s.name()).put("state", s.state()).put("detail", s.detail()));
      out.println(array.toPrettyString());
    } else {
      states.forEach(s -> out.println(String.format(Locale.ROOT, "%-20s %-13s %s", s.name(), s.state(), s.detail())));
    }
    return ExitCodes.OK;
  }
}
