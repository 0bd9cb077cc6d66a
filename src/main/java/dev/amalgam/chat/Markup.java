package dev.amalgam.chat;

/**
 * jinja2's Markup (markupsafe): text marked safe by {@code safe} or {@code escape}. Adding a plain string to it, on
 * either side, HTML-escapes that string, as in jinja2: {@code "to '"|safe + s} gives {@code to 'it&#39;s}. The
 * renderer keeps Markup only inside a chain of {@code +} and in variables set to it ({@link Renderer#eval}).
 */
record Markup(String text) {

  /** markupsafe's escape. */
  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
        .replace("'", "&#39;");
  }

  /** {@code a + b} where either is Markup: the plain side escaped; anything but a string is a TypeError. */
  static Object plus(Object a, Object b, int line) {
    String left = side(a, b, line);
    String right = side(b, a, line);
    RenderLimits.checkChars((long) left.length() + right.length(), line);
    return new Markup(left + right);
  }

  private static String side(Object v, Object other, int line) {
    if (v instanceof Markup m) return m.text();
    if (v instanceof String s) return escape(s);
    if (v instanceof Undefined u) throw u.error(line);
    throw new TemplateError("unsupported operand type(s) for +: '" + typeName(v) + "' and '" + typeName(other) + "'",
        line);
  }

  private static String typeName(Object v) {
    return v instanceof Markup ? "Markup" : Py.typeName(v);
  }
}
