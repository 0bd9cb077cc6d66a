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
    footer = {
      "",
      "Start here:",
      "  amalgam merge examples/linear.yml /tmp/merged        merge two checkpoints as a mergekit config says",
      "  amalgam methods                                      the merge methods, their parameters and defaults",
      "  amalgam generate /tmp/merged --prompt 'The smith kept'",
      "  amalgam generate examples/linear.yml --prompt 'The smith kept'    merge in memory, then generate",
      "  amalgam batch examples/batch.yml --out-dir /tmp/b    several merges from one file (--slurm: on a cluster)",
      "  amalgam serve examples/linear.yml                    an OpenAI-compatible server on the merge, in memory",
      "  amalgam doctor                                       what this machine can run (GPU, CUDA, libtorch)",
      "",
      "Every command has --help with examples. Exit status: 0 ok, 2 usage or input error, 1 runtime failure."
    },
    subcommands = {
      MergeCommand.class,
      MethodsCommand.class,
      GenerateCommand.class,
      EvalCommand.class,
      SweepCommand.class,
      BatchCommand.class,
      ServeCommand.class,
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
    // The help texts are laid out in lines of up to 110 characters; picocli's default 80 would re-wrap them.
    cli.setUsageHelpWidth(120);
    // Prompts and model output are UTF-8 whatever the platform's default charset (Java 17 on a POSIX
    // locale would otherwise turn non-ASCII text into '?').
    cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
    cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
    return ExitCodes.configure(cli);
  }
}
