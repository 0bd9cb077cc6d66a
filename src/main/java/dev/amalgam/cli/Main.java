package dev.amalgam.cli;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: parses the command line and dispatches to one subcommand per capability. */
@Command(
    name = "amalgam",
    mixinStandardHelpOptions = true,
    version = "amalgam 0.1.0",
    description = "Merge Hugging Face LLM checkpoints on the GPU (or CPU) and generate text from the result.",
    subcommands = {
      MergeCommand.class,
      GenerateCommand.class,
      TemplateCommand.class,
      InspectCommand.class,
      DoctorCommand.class,
      RandomModelCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
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
    CommandLine cli = new CommandLine(new Main());
    // Prompts and model output are UTF-8 whatever the platform's default charset (Java 17 on a POSIX
    // locale would otherwise turn non-ASCII text into '?').
    cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
    cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
    return ExitCodes.configure(cli);
  }
}
