package dev.amalgam.cli;

import dev.amalgam.UserError;
import dev.amalgam.io.IoErrors;
import java.io.UncheckedIOException;
import java.nio.file.InvalidPathException;
import picocli.CommandLine;

/**
 * The exit-code contract: 0 ok, 2 usage or input error, 1 runtime failure, each reported as one line on stderr.
 * A {@link UserError} is the user's mistake and prints as its sentence; anything else is a runtime failure whose
 * stack trace {@code AMALGAM_DEBUG=1} shows. A bad option value prints the one-line error and where help is,
 * not the whole help.
 */
final class ExitCodes {
  static final int OK = 0;
  static final int RUNTIME_FAILURE = 1;
  static final int USAGE = 2;

  private ExitCodes() {}

  static CommandLine configure(CommandLine cli) {
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine cmd = e.getCommandLine();
      cmd.getErr().println("error: " + e.getMessage().replaceAll("\\s+", " ").trim()
          + " (try '" + cmd.getCommandSpec().qualifiedName() + " --help')");
      return USAGE;
    });
    cli.setExecutionExceptionHandler((e, cmd, parseResult) -> report(e, cmd));
    CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
    // Errors are not Exceptions, so picocli lets them through: a stack overflow on a deeply nested input or
    // running out of memory still ends as one line.
    cli.setExecutionStrategy(parseResult -> {
      try {
        return run.execute(parseResult);
      } catch (StackOverflowError | OutOfMemoryError e) {
        return report(e, parseResult.commandSpec().commandLine());
      }
    });
    return cli;
  }

  private static int report(Throwable e, CommandLine cmd) {
    if (e instanceof UserError) {
      cmd.getErr().println("error: " + e.getMessage());
      return USAGE;
    }
    if (e instanceof InvalidPathException p) {
      // Paths come from the user: the command line, a config, an index's shard names.
      cmd.getErr().println("error: `" + p.getInput().replace("\0", "\\0") + "` is not a valid path: " + p.getReason());
      return USAGE;
    }
    boolean debug = System.getenv("AMALGAM_DEBUG") != null;
    cmd.getErr().println("error: " + describe(e) + (debug ? "" : " (AMALGAM_DEBUG=1 shows the stack trace)"));
    if (debug) {
      e.printStackTrace(cmd.getErr());
    }
    return RUNTIME_FAILURE;
  }

  /** A runtime failure as a sentence: its message and its cause's, without class names where there is text. */
  static String describe(Throwable e) {
    if (e instanceof StackOverflowError) {
      return "the input nests too deeply to process";
    }
    if (e instanceof OutOfMemoryError) {
      return "out of memory (" + e.getMessage() + "); the input is larger than this process can hold";
    }
    String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName()
        : e.getMessage().replaceAll("\\s+", " ").trim();
    if (e instanceof UncheckedIOException io && !message.contains(":")) {
      message += ": " + IoErrors.describe(io.getCause());
    }
    return message;
  }
}
