package dev.amalgam.chat;

/**
 * jinja2's default {@code Undefined}: a missing variable, attribute or item. It is falsy, prints as nothing,
 * iterates as empty and has length 0; anything else (arithmetic, attribute access, calls) is an error that
 * names what was missing, exactly where jinja2 would raise {@code UndefinedError}.
 */
final class Undefined {
  private final String message;

  private Undefined(String message) {
    this.message = message;
  }

  /** A name that is not defined at all. */
  static Undefined name(String name) {
    return new Undefined("'" + name + "' is undefined");
  }

  /** A missing attribute of an existing object ({@code message.foo}). */
  static Undefined attribute(Object obj, String attribute) {
    return new Undefined(objectTypeRepr(obj) + " has no attribute " + Py.repr(attribute));
  }

  /** A missing item ({@code messages[7]}, {@code message['foo']}). */
  static Undefined item(Object obj, Object key) {
    if (key instanceof String s) {
      return attribute(obj, s);
    }
    return new Undefined(objectTypeRepr(obj).replace("'", "") + " has no element " + Py.repr(key));
  }

  /** The UndefinedError message jinja2 would give. */
  String message() {
    return message;
  }

  TemplateError error(int line) {
    return new TemplateError(message, line);
  }

  private static String objectTypeRepr(Object obj) {
    return obj == null ? "'None'" : "'" + Py.typeName(obj) + " object'";
  }

  @Override
  public String toString() {
    return "";
  }
}
