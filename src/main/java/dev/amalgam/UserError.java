package dev.amalgam;

/**
 * A mistake in what the user asked for (a bad config, a missing file, a corrupt checkpoint). The CLI prints
 * its message as one line and exits with status 2; it never shows a stack trace.
 */
public class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
