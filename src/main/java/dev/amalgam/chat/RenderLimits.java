package dev.amalgam.chat;

/**
 * Bounds on what one render may build, so a hostile or broken template fails with a {@link TemplateError}
 * instead of running for minutes or exhausting memory ({@code ' ' * 10**9}, {@code center(10**9)}, loops nested
 * over {@code range(100000)}). Real chat templates stay far inside them: a conversation of the largest context
 * windows is a few MB of text, rendered with a few hundred loop iterations.
 */
final class RenderLimits {
  /** Characters in any string a template builds, the rendered output included. */
  static final long MAX_CHARS = 32L << 20;
  /** Elements in any list a template builds. */
  static final long MAX_ITEMS = 1L << 20;
  /** Loop iterations in one render, all loops together. */
  static final long MAX_ITERATIONS = 10_000_000L;
  /** The width of one indentation (tojson's indent, the indent filter). */
  static final long MAX_INDENT = 1_000L;

  private RenderLimits() {}

  /** Throws unless a string of {@code chars} characters is allowed. */
  static void checkChars(long chars, int line) {
    if (chars > MAX_CHARS) {
      throw new TemplateError("the template would build a string of " + chars + " characters, over the limit of "
          + MAX_CHARS, line);
    }
  }

  static void checkItems(long items, int line) {
    if (items > MAX_ITEMS) {
      throw new TemplateError("the template would build a list of " + items + " items, over the limit of "
          + MAX_ITEMS, line);
    }
  }

  static void checkIndent(long width, int line) {
    if (width > MAX_INDENT) {
      throw new TemplateError("an indentation of " + width + " is over the limit of " + MAX_INDENT, line);
    }
  }
}
