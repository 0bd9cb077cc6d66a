package dev.amalgam.chat;

import java.util.List;

/** The parsed template: statements ({@link Stmt}) and expressions ({@link Expr}), each with its line. */
final class Node {
  private Node() {}

  interface Stmt {
    int line();
  }

  record Text(String text, int line) implements Stmt {}

  record Output(Expr expr, int line) implements Stmt {}

  record If(List<Expr> conditions, List<List<Stmt>> bodies, List<Stmt> orElse, int line) implements Stmt {}

  /** A for loop; a {@code recursive} one's body may call {@code loop(items)} to render it over other items. */
  record For(Expr target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> orElse, boolean recursive,
      int line) implements Stmt {}

  /** {@code {% set target = value %}}; target is a Name, a Tuple of names, or an NsRef. */
  record Set(Expr target, Expr value, int line) implements Stmt {}

  /** {@code {% set name %}...{% endset %}}, optionally piped through filters (innermost value null). */
  record SetBlock(Expr target, Expr filter, List<Stmt> body, int line) implements Stmt {}

  /** {@code {% filter f(args) | g %}body{% endfilter %}}: the rendered body through the filters. */
  record FilterBlock(Expr filter, List<Stmt> body, int line) implements Stmt {}

  record Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, int line) implements Stmt {}

  /**
   * {@code {% call(params) callee(args) %}body{% endcall %}}: the call, given {@code caller}, a macro of
   * {@code params} that renders the body where the call block stands.
   */
  record CallBlock(Call call, List<String> params, List<Expr> defaults, List<Stmt> body, int line) implements Stmt {}

  record Break(int line) implements Stmt {}

  record Continue(int line) implements Stmt {}

  interface Expr {
    int line();
  }

  record Const(Object value, int line) implements Expr {}

  record Name(String name, int line) implements Expr {}

  /** {@code ns.attr} on the left of a set. */
  record NsRef(String name, String attr, int line) implements Expr {}

  record GetAttr(Expr obj, String attr, int line) implements Expr {}

  record GetItem(Expr obj, Expr key, int line) implements Expr {}

  /** A slice key {@code start:stop:step}; absent parts are null. */
  record Slice(Expr start, Expr stop, Expr step, int line) implements Expr {}

  /** Arithmetic {@code + - * / // % **} and concatenation {@code ~}. */
  record BinOp(String op, Expr left, Expr right, int line) implements Expr {}

  /** Unary {@code -} and {@code +}. */
  record Unary(String op, Expr operand, int line) implements Expr {}

  record Not(Expr operand, int line) implements Expr {}

  record And(Expr left, Expr right, int line) implements Expr {}

  record Or(Expr left, Expr right, int line) implements Expr {}

  /** A comparison chain {@code a < b <= c}; ops are ==, !=, <, <=, >, >=, in, notin. */
  record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr {}

  /** {@code then if test else orElse}; orElse may be null (undefined when the test fails). */
  record CondExpr(Expr test, Expr then, Expr orElse, int line) implements Expr {}

  /** {@code callee(args, kw=values, *starArgs, **starKwargs)}; the star parts are null when absent. */
  record Call(Expr callee, List<Expr> args, List<String> kwNames, List<Expr> kwValues, Expr starArgs,
      Expr starKwargs, int line) implements Expr {}

  /** {@code value | name(args)}; value is null for the filter of a set block. */
  record Filter(Expr value, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line)
      implements Expr {}

  /** {@code value is [not] name(args)}; negation is a wrapping {@link Not}. */
  record Test(Expr value, String name, List<Expr> args, int line) implements Expr {}

  record ListLit(List<Expr> items, int line) implements Expr {}

  record TupleLit(List<Expr> items, int line) implements Expr {}

  record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr {}
}
