package dev.amalgam.cli;

import dev.amalgam.UserError;
import picocli.CommandLine;

/**
 * The exit-code contract: 0 ok, 2 usage or configuration error, 1 runtime failure. A {@link UserError}
 * is the user's mistake and prints as one line, never as a stack trace.
 */
final class ExitCodes {
  static final int OK = 0;
  static final int RUNTIME_FAILURE = 1;
  static final int USAGE = 2;

  private ExitCodes() {}

  static CommandLine configure(CommandLine cli) {
    cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
      if (e instanceof UserError) {
        cmd.getErr().println("error: " + e.getMessage());
        return USAGE;
      }
      cmd.getErr().println("error: " + e);
      if (System.getenv("AMALGAM_DEBUG") != null) {
        e.printStackTrace(cmd.getErr());
      } else {
        cmd.getErr().println("(set AMALGAM_DEBUG=1 for the stack trace)");
      }
      return RUNTIME_FAILURE;
    });
    return cli;
  }
}
