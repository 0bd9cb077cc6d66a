package dev.amalgam.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks that time amalgam against its floor or baseline in the same run and print JSON.",
    subcommands = {BenchMergeCommand.class, BenchGenerateCommand.class, BenchFirstTokenCommand.class,
        BenchKernelsCommand.class, BenchSweepCommand.class, BenchServeCommand.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
