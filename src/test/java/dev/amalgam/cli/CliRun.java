package dev.amalgam.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the amalgam command line in-process and captures what it prints. */
public record CliRun(int exitCode, String out, String err) {
  public static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /** A user mistake: exit 2 and a one-line message, never a stack trace. */
  public boolean isCleanUserError() {
    return exitCode == 2 && !err.contains("\tat ") && !err.contains("Exception");
  }
}
