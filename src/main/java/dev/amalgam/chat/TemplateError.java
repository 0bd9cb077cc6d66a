package dev.amalgam.chat;

import dev.amalgam.UserError;

/**
 * A chat template failed: it could not be parsed, it used something this renderer does not support, or it
 * refused the conversation itself (through {@code raise_exception}). Either way it is about the model's
 * template or the user's messages, so it is a {@link UserError}: one line, exit status 2.
 */
public class TemplateError extends UserError {
  private final String reason;
  private final int line;

  public TemplateError(String reason, int line) {
    super(line > 0 ? "chat template line " + line + ": " + reason : "chat template: " + reason);
    this.reason = reason;
    this.line = line;
  }

  /** The message without the line prefix (for raise_exception: exactly what the template said). */
  public String reason() {
    return reason;
  }

  /** The template line (1-based), or 0 when unknown. */
  public int line() {
    return line;
  }

  /** Raised by the template's own {@code raise_exception(message)}. */
  public static final class Raised extends TemplateError {
    public Raised(String message, int line) {
      super(message, line);
    }

    @Override
    public String getMessage() {
      return "the chat template rejected the messages: " + reason() + " (template line " + line() + ")";
    }
  }
}
