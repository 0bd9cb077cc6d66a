package dev.amalgam.chat;

/** One lexer token; {@code value} is the operator text, the name, or the already-unescaped string. */
record Token(Type type, String value, int line) {
  enum Type {
    TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
  }

  boolean is(Type t) {
    return type == t;
  }

  boolean isOp(String op) {
    return type == Type.OPERATOR && value.equals(op);
  }

  boolean isName(String name) {
    return type == Type.NAME && value.equals(name);
  }

  /** How the token reads in an error message. */
  String describe() {
    switch (type) {
      case EOF: return "end of template";
      case TEXT: return "template text";
      case VAR_BEGIN: return "'{{'";
      case VAR_END: return "'}}'";
      case BLOCK_BEGIN: return "'{%'";
      case BLOCK_END: return "'%}'";
      case STRING: return "string " + Py.repr(value);
      default: return "'" + value + "'";
    }
  }
}
