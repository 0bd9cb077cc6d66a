package dev.amalgam.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: parses the command line and dispatches to one subcommand per capability. */
@Command(
    name = "amalgam",
    mixinStandardHelpOptions = true,
    version = "amalgam 0.1.0",
    description = "Merge Hugging Face LLM checkpoints on the GPU (or CPU) and generate text from the result.",
    subcommands = {DoctorCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    return ExitCodes.configure(new CommandLine(new Main()));
  }
}
