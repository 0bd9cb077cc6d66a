package dev.amalgam.chat;

import dev.amalgam.chat.Node.Expr;
import dev.amalgam.chat.Node.Stmt;
import dev.amalgam.chat.Token.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A recursive-descent parser that follows jinja2's parser.py rule for rule, so that operator precedence,
 * where filters and tests bind, and what counts as a tuple all match. Unknown tags, filters and tests are
 * rejected here, with their line, as jinja2 rejects them at compile time.
 */
final class Parser {
  /** Tags jinja2 has but this renderer does not; named in the error so the cause is obvious. */
  private static final Set<String> UNSUPPORTED_TAGS = Set.of(
      "with", "include", "import", "from", "extends", "block", "autoescape", "do",
      "trans", "pluralize");

  private final List<Token> tokens;
  private int index;
  private int loopDepth;
  /**
   * Inside an if statement or a conditional expression (jinja2's "soft" frames), where an unknown filter or test
   * is an error only when the branch runs; elsewhere it fails the template, as jinja2 fails it at compile time.
   */
  private int soft;
  private final List<TemplateError> unknownNames = new ArrayList<>();

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  static List<Stmt> parse(String source) {
    Parser parser = new Parser(Lexer.tokenize(source));
    List<Stmt> body = parser.subparse(Set.of());
    if (!parser.current().is(Type.EOF)) {
      throw parser.error("unexpected " + parser.current().describe());
    }
    if (!parser.unknownNames.isEmpty()) {
      throw parser.unknownNames.get(0);
    }
    return body;
  }

  // ---- token stream ----

  private Token current() {
    return tokens.get(index);
  }

  private Token peek() {
    return tokens.get(Math.min(index + 1, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(index);
    if (index < tokens.size() - 1) {
      index++;
    }
    return t;
  }

  private TemplateError error(String message) {
    return new TemplateError(message, current().line());
  }

  private Token expect(Type type, String what) {
    if (!current().is(type)) {
      throw error("expected " + what + ", got " + current().describe());
    }
    return next();
  }

  private void expectOp(String op) {
    if (!current().isOp(op)) {
      throw error("expected '" + op + "', got " + current().describe());
    }
    next();
  }

  private void expectName(String name) {
    if (!current().isName(name)) {
      throw error("expected '" + name + "', got " + current().describe());
    }
    next();
  }

  private boolean skipOp(String op) {
    if (current().isOp(op)) {
      next();
      return true;
    }
    return false;
  }

  private boolean skipName(String name) {
    if (current().isName(name)) {
      next();
      return true;
    }
    return false;
  }

  // ---- statements ----

  /** Parses until one of {@code endTags} opens a block; leaves the stream on that tag's name. */
  private List<Stmt> subparse(Set<String> endTags) {
    List<Stmt> body = new ArrayList<>();
    while (true) {
      Token t = current();
      switch (t.type()) {
        case EOF:
          if (!endTags.isEmpty()) {
            throw error("unexpected end of template, expected one of " + String.join("/", sorted(endTags)));
          }
          return body;
        case TEXT:
          next();
          body.add(new Node.Text(t.value(), t.line()));
          break;
        case VAR_BEGIN: {
          next();
          Expr e = parseTuple(false, true, Set.of(), false);
          expect(Type.VAR_END, "'}}'");
          body.add(new Node.Output(e, t.line()));
          break;
        }
        case BLOCK_BEGIN: {
          next();
          Token name = current();
          if (name.is(Type.NAME) && endTags.contains(name.value())) {
            return body;
          }
          body.add(parseStatement());
          break;
        }
        default:
          throw error("unexpected " + t.describe());
      }
    }
  }

  private static List<String> sorted(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    l.sort(null);
    return l;
  }

  /** {@code %}} then a body up to one of {@code endTags}; the stream is left on the end tag's name. */
  private List<Stmt> parseStatements(Set<String> endTags) {
    expect(Type.BLOCK_END, "'%}'");
    return subparse(endTags);
  }

  /** Consumes the end tag's name and its {@code %}}. */
  private void endTag() {
    next();
    expect(Type.BLOCK_END, "'%}'");
  }

  private Stmt parseStatement() {
    Token t = expect(Type.NAME, "a tag name");
    switch (t.value()) {
      case "if": return parseIf(t);
      case "for": return parseFor(t);
      case "set": return parseSet(t);
      case "macro": return parseMacro(t);
      case "call": return parseCallBlock(t);
      case "filter": {
        Expr filter = parseFilter(null, true);
        List<Stmt> body = parseStatements(Set.of("endfilter"));
        endTag();
        return new Node.FilterBlock(filter, body, t.line());
      }
      case "break":
      case "continue":
        if (loopDepth == 0) {
          throw new TemplateError("'" + t.value() + "' outside of a for loop", t.line());
        }
        expect(Type.BLOCK_END, "'%}'");
        return t.value().equals("break") ? new Node.Break(t.line()) : new Node.Continue(t.line());
      case "generation": {
        // transformers' AssistantTracker tag: it only marks assistant text for masks; it renders its body.
        List<Stmt> body = parseStatements(Set.of("endgeneration"));
        endTag();
        return new Node.If(List.of(new Node.Const(true, t.line())), List.of(body), List.of(), t.line());
      }
      default:
        if (UNSUPPORTED_TAGS.contains(t.value())) {
          throw new TemplateError("the '" + t.value() + "' tag is not supported by this renderer", t.line());
        }
        throw new TemplateError("unknown tag '" + t.value() + "'", t.line());
    }
  }

  private Stmt parseIf(Token start) {
    soft++;
    try {
      return parseIfBranches(start);
    } finally {
      soft--;
    }
  }

  private Stmt parseIfBranches(Token start) {
    List<Expr> conditions = new ArrayList<>();
    List<List<Stmt>> bodies = new ArrayList<>();
    List<Stmt> orElse = List.of();
    conditions.add(parseTuple(false, false, Set.of(), false));
    bodies.add(parseStatements(Set.of("elif", "else", "endif")));
    while (true) {
      Token tag = next();
      if (tag.value().equals("elif")) {
        conditions.add(parseTuple(false, false, Set.of(), false));
        bodies.add(parseStatements(Set.of("elif", "else", "endif")));
      } else if (tag.value().equals("else")) {
        orElse = parseStatements(Set.of("endif"));
        endTag();
        break;
      } else {
        expect(Type.BLOCK_END, "'%}'");
        break;
      }
    }
    return new Node.If(conditions, bodies, orElse, start.line());
  }

  private Stmt parseFor(Token start) {
    Expr target = parseAssignTarget(Set.of("in"), false);
    expectName("in");
    Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
    Expr filter = null;
    if (skipName("if")) {
      filter = parseExpression(true);
    }
    boolean recursive = skipName("recursive");
    loopDepth++;
    List<Stmt> body = parseStatements(Set.of("endfor", "else"));
    loopDepth--;
    List<Stmt> orElse = List.of();
    if (next().value().equals("else")) {
      orElse = parseStatements(Set.of("endfor"));
      endTag();
    } else {
      expect(Type.BLOCK_END, "'%}'");
    }
    return new Node.For(target, iterable, filter, body, orElse, recursive, start.line());
  }

  private Stmt parseSet(Token start) {
    Expr target = parseAssignTarget(Set.of(), true);
    if (skipOp("=")) {
      Expr value = parseTuple(false, true, Set.of(), false);
      expect(Type.BLOCK_END, "'%}'");
      return new Node.Set(target, value, start.line());
    }
    Expr filter = current().isOp("|") ? parseFilter(null) : null;
    List<Stmt> body = parseStatements(Set.of("endset"));
    endTag();
    return new Node.SetBlock(target, filter, body, start.line());
  }

  private Stmt parseMacro(Token start) {
    String name = expect(Type.NAME, "a macro name").value();
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    parseSignature(params, defaults);
    List<Stmt> body = parseMacroBody("endmacro");
    return new Node.Macro(name, params, defaults, body, start.line());
  }

  /** {@code {% call [(params)] callee(args) %} body {% endcall %}}. */
  private Stmt parseCallBlock(Token start) {
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    if (current().isOp("(")) {
      parseSignature(params, defaults);
    }
    Expr call = parseExpression(true);
    if (!(call instanceof Node.Call c)) {
      throw new TemplateError("a call block needs a call, such as {% call my_macro() %}", start.line());
    }
    return new Node.CallBlock(c, params, defaults, parseMacroBody("endcall"), start.line());
  }

  /** {@code (a, b=default, ...)}: a macro's or a call block's parameters. */
  private void parseSignature(List<String> params, List<Expr> defaults) {
    expectOp("(");
    while (!current().isOp(")")) {
      if (!params.isEmpty()) {
        expectOp(",");
        if (current().isOp(")")) {
          break;
        }
      }
      params.add(expect(Type.NAME, "a parameter name").value());
      if (skipOp("=")) {
        defaults.add(parseExpression(true));
      } else if (!defaults.isEmpty()) {
        throw error("non-default macro parameter follows a default one");
      }
    }
    next();
  }

  /** A macro's body up to {@code endName}, where break and continue cannot reach an enclosing loop. */
  private List<Stmt> parseMacroBody(String endName) {
    int savedDepth = loopDepth;
    loopDepth = 0;
    List<Stmt> body = parseStatements(Set.of(endName));
    loopDepth = savedDepth;
    endTag();
    return body;
  }

  private Expr parseAssignTarget(Set<String> extraEnd, boolean withNamespace) {
    Expr target;
    if (withNamespace && current().is(Type.NAME) && peek().isOp(".")) {
      Token ns = next();
      next();
      Token attr = expect(Type.NAME, "an attribute name");
      return new Node.NsRef(ns.value(), attr.value(), ns.line());
    }
    target = parseTuple(true, false, extraEnd, false);
    checkAssignable(target);
    return target;
  }

  private void checkAssignable(Expr target) {
    if (target instanceof Node.Name n) {
      if (Set.of("true", "false", "none", "True", "False", "None").contains(n.name())) {
        throw new TemplateError("cannot assign to '" + n.name() + "'", n.line());
      }
      return;
    }
    if (target instanceof Node.TupleLit t) {
      for (Expr item : t.items()) {
        checkAssignable(item);
      }
      return;
    }
    throw new TemplateError("cannot assign to this expression", target.line());
  }

  // ---- expressions ----

  private boolean isTupleEnd(Set<String> extraEnd) {
    Token t = current();
    if (t.is(Type.VAR_END) || t.is(Type.BLOCK_END) || t.is(Type.EOF) || t.isOp(")")) {
      return true;
    }
    return t.is(Type.NAME) && extraEnd.contains(t.value());
  }

  /**
   * A comma-separated list becomes a tuple; a single expression stays itself. {@code simplified} parses
   * only primaries (assignment targets); {@code withCondexpr=false} leaves a trailing {@code if} alone.
   */
  private Expr parseTuple(boolean simplified, boolean withCondexpr, Set<String> extraEnd, boolean explicitParens) {
    int line = current().line();
    List<Expr> items = new ArrayList<>();
    boolean isTuple = false;
    while (true) {
      if (!items.isEmpty()) {
        expectOp(",");
      }
      if (isTupleEnd(extraEnd)) {
        break;
      }
      if (simplified) {
        items.add(parsePrimary());
      } else {
        items.add(parseExpression(withCondexpr));
      }
      if (current().isOp(",")) {
        isTuple = true;
      } else {
        break;
      }
    }
    if (!isTuple) {
      if (!items.isEmpty()) {
        return items.get(0);
      }
      if (!explicitParens) {
        throw error("expected an expression, got " + current().describe());
      }
    }
    return new Node.TupleLit(items, line);
  }

  private Expr parseExpression(boolean withCondexpr) {
    return withCondexpr ? parseCondexpr() : parseOr();
  }

  private Expr parseCondexpr() {
    int unknownBefore = unknownNames.size();
    Expr expr = parseOr();
    while (current().isName("if")) {
      // The whole conditional expression is soft: its unknown names fail only when evaluated.
      unknownNames.subList(unknownBefore, unknownNames.size()).clear();
      soft++;
      try {
        int line = next().line();
        Expr test = parseOr();
        Expr orElse = skipName("else") ? parseCondexpr() : null;
        expr = new Node.CondExpr(test, expr, orElse, line);
      } finally {
        soft--;
      }
    }
    return expr;
  }

  private Expr parseOr() {
    Expr left = parseAnd();
    while (current().isName("or")) {
      int line = next().line();
      left = new Node.Or(left, parseAnd(), line);
    }
    return left;
  }

  private Expr parseAnd() {
    Expr left = parseNot();
    while (current().isName("and")) {
      int line = next().line();
      left = new Node.And(left, parseNot(), line);
    }
    return left;
  }

  private Expr parseNot() {
    if (current().isName("not")) {
      int line = next().line();
      return new Node.Not(parseNot(), line);
    }
    return parseCompare();
  }

  private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

  private Expr parseCompare() {
    int line = current().line();
    Expr first = parseMath1();
    List<String> ops = new ArrayList<>();
    List<Expr> rest = new ArrayList<>();
    while (true) {
      Token t = current();
      if (t.is(Type.OPERATOR) && COMPARE_OPS.contains(t.value())) {
        next();
        ops.add(t.value());
        rest.add(parseMath1());
      } else if (t.isName("in")) {
        next();
        ops.add("in");
        rest.add(parseMath1());
      } else if (t.isName("not") && peek().isName("in")) {
        next();
        next();
        ops.add("notin");
        rest.add(parseMath1());
      } else {
        break;
      }
    }
    return ops.isEmpty() ? first : new Node.Compare(first, ops, rest, line);
  }

  private Expr parseMath1() {
    Expr left = parseConcat();
    while (current().isOp("+") || current().isOp("-")) {
      Token op = next();
      left = new Node.BinOp(op.value(), left, parseConcat(), op.line());
    }
    return left;
  }

  private Expr parseConcat() {
    Expr left = parseMath2();
    while (current().isOp("~")) {
      Token op = next();
      left = new Node.BinOp("~", left, parseMath2(), op.line());
    }
    return left;
  }

  private Expr parseMath2() {
    Expr left = parsePow();
    while (current().isOp("*") || current().isOp("/") || current().isOp("//") || current().isOp("%")) {
      Token op = next();
      left = new Node.BinOp(op.value(), left, parsePow(), op.line());
    }
    return left;
  }

  private Expr parsePow() {
    Expr left = parseUnary(true);
    while (current().isOp("**")) {
      Token op = next();
      left = new Node.BinOp("**", left, parseUnary(true), op.line());
    }
    return left;
  }

  private Expr parseUnary(boolean withFilter) {
    Token t = current();
    Expr node;
    if (t.isOp("-") || t.isOp("+")) {
      next();
      node = new Node.Unary(t.value(), parseUnary(false), t.line());
    } else {
      node = parsePrimary();
    }
    node = parsePostfix(node);
    if (withFilter) {
      node = parseFilterExpr(node);
    }
    return node;
  }

  private Expr parsePrimary() {
    Token t = current();
    switch (t.type()) {
      case NAME:
        next();
        switch (t.value()) {
          case "true": case "True": return new Node.Const(true, t.line());
          case "false": case "False": return new Node.Const(false, t.line());
          case "none": case "None": return new Node.Const(null, t.line());
          default: return new Node.Name(t.value(), t.line());
        }
      case STRING: {
        // Adjacent string literals concatenate, as in Python.
        StringBuilder sb = new StringBuilder(next().value());
        while (current().is(Type.STRING)) {
          sb.append(next().value());
        }
        return new Node.Const(sb.toString(), t.line());
      }
      case INTEGER:
        next();
        return new Node.Const(parseInteger(t), t.line());
      case FLOAT:
        next();
        return new Node.Const(Double.parseDouble(t.value()), t.line());
      case OPERATOR:
        if (t.isOp("(")) {
          next();
          Expr e = parseTuple(false, true, Set.of(), true);
          expectOp(")");
          return e;
        }
        if (t.isOp("[")) {
          return parseList();
        }
        if (t.isOp("{")) {
          return parseDict();
        }
        throw error("unexpected " + t.describe());
      default:
        throw error("unexpected " + t.describe());
    }
  }

  /** An integer literal (underscores allowed, as in Python): a Long, or a BigInteger beyond 64 bits. */
  private Object parseInteger(Token t) {
    String v = t.value().toLowerCase(Locale.ROOT).replace("_", "");
    int radix = v.startsWith("0b") ? 2 : v.startsWith("0o") ? 8 : v.startsWith("0x") ? 16 : 10;
    try {
      BigInteger value = new BigInteger(radix == 10 ? v : v.substring(2), radix);
      return value.bitLength() < 64 ? (Object) value.longValue() : value;
    } catch (NumberFormatException e) {
      throw new TemplateError("invalid integer literal " + t.value(), t.line());
    }
  }

  private Expr parseList() {
    int line = next().line();
    List<Expr> items = new ArrayList<>();
    while (!current().isOp("]")) {
      if (!items.isEmpty()) {
        expectOp(",");
      }
      if (current().isOp("]")) {
        break;
      }
      items.add(parseExpression(true));
    }
    expectOp("]");
    return new Node.ListLit(items, line);
  }

  private Expr parseDict() {
    int line = next().line();
    List<Expr> keys = new ArrayList<>();
    List<Expr> values = new ArrayList<>();
    while (!current().isOp("}")) {
      if (!keys.isEmpty()) {
        expectOp(",");
      }
      if (current().isOp("}")) {
        break;
      }
      keys.add(parseExpression(true));
      expectOp(":");
      values.add(parseExpression(true));
    }
    expectOp("}");
    return new Node.DictLit(keys, values, line);
  }

  private Expr parsePostfix(Expr node) {
    while (true) {
      if (current().isOp(".") || current().isOp("[")) {
        node = parseSubscript(node);
      } else if (current().isOp("(")) {
        node = parseCall(node);
      } else {
        return node;
      }
    }
  }

  private Expr parseFilterExpr(Expr node) {
    while (true) {
      if (current().isOp("|")) {
        node = parseFilter(node);
      } else if (current().isName("is")) {
        node = parseTest(node);
      } else if (current().isOp("(")) {
        node = parseCall(node);
      } else {
        return node;
      }
    }
  }

  private Expr parseSubscript(Expr node) {
    Token t = next();
    if (t.isOp(".")) {
      Token attr = next();
      if (attr.is(Type.NAME)) {
        return new Node.GetAttr(node, attr.value(), attr.line());
      }
      if (attr.is(Type.INTEGER)) {
        return new Node.GetItem(node, new Node.Const(parseInteger(attr), attr.line()), attr.line());
      }
      throw new TemplateError("expected an attribute name after '.', got " + attr.describe(), attr.line());
    }
    List<Expr> args = new ArrayList<>();
    while (!current().isOp("]")) {
      if (!args.isEmpty()) {
        expectOp(",");
      }
      args.add(parseSubscribed());
    }
    expectOp("]");
    Expr key = args.size() == 1 ? args.get(0) : new Node.TupleLit(args, t.line());
    return new Node.GetItem(node, key, t.line());
  }

  private Expr parseSubscribed() {
    int line = current().line();
    List<Expr> parts = new ArrayList<>();
    if (current().isOp(":")) {
      next();
      parts.add(null);
    } else {
      Expr e = parseExpression(true);
      if (!current().isOp(":")) {
        return e;
      }
      next();
      parts.add(e);
    }
    if (current().isOp(":")) {
      parts.add(null);
    } else if (!current().isOp("]") && !current().isOp(",")) {
      parts.add(parseExpression(true));
    } else {
      parts.add(null);
    }
    if (current().isOp(":")) {
      next();
      parts.add(!current().isOp("]") && !current().isOp(",") ? parseExpression(true) : null);
    } else {
      parts.add(null);
    }
    return new Node.Slice(parts.get(0), parts.get(1), parts.get(2), line);
  }

  /** Call arguments: positional, then {@code name=value}; {@code *args} and {@code **kwargs} are rejected. */
  private record CallArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues, Expr starArgs,
      Expr starKwargs) {}

  private CallArgs parseCallArgs() {
    expectOp("(");
    List<Expr> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Expr> kwValues = new ArrayList<>();
    Expr starArgs = null;
    Expr starKwargs = null;
    boolean first = true;
    while (!current().isOp(")")) {
      if (!first) {
        expectOp(",");
        if (current().isOp(")")) {
          break;
        }
      }
      first = false;
      if (current().isOp("*") && starArgs == null && starKwargs == null) {
        next();
        starArgs = parseExpression(true);
      } else if (current().isOp("**") && starKwargs == null) {
        next();
        starKwargs = parseExpression(true);
      } else if (starArgs != null || starKwargs != null) {
        throw error("arguments after *args or **kwargs are not supported by this renderer");
      } else if (current().is(Type.NAME) && peek().isOp("=")) {
        kwNames.add(next().value());
        next();
        kwValues.add(parseExpression(true));
      } else {
        if (!kwNames.isEmpty()) {
          throw error("positional argument follows keyword argument");
        }
        args.add(parseExpression(true));
      }
    }
    expectOp(")");
    return new CallArgs(args, kwNames, kwValues, starArgs, starKwargs);
  }

  private Expr parseCall(Expr node) {
    int line = current().line();
    CallArgs a = parseCallArgs();
    return new Node.Call(node, a.args(), a.kwNames(), a.kwValues(), a.starArgs(), a.starKwargs(), line);
  }

  /** Call arguments where *args and **kwargs are not taken (filters, tests). */
  private CallArgs parsePlainCallArgs() {
    CallArgs a = parseCallArgs();
    if (a.starArgs() != null || a.starKwargs() != null) {
      throw error("*args / **kwargs in filter or test arguments are not supported by this renderer");
    }
    return a;
  }

  /** A chain of {@code | name(args)}; for a set block {@code node} is null and stands for the body. */
  private Expr parseFilter(Expr node) {
    return parseFilter(node, false);
  }

  /** With {@code first}, the chain starts at a filter name without a {@code |} (a filter block's). */
  private Expr parseFilter(Expr node, boolean first) {
    while (first || current().isOp("|")) {
      if (!first) {
        next();
      }
      first = false;
      Token nameToken = expect(Type.NAME, "a filter name");
      String name = nameToken.value();
      while (current().isOp(".")) {
        next();
        name += "." + expect(Type.NAME, "a filter name").value();
      }
      if (!Filters.exists(name) && soft == 0) {
        unknownNames.add(new TemplateError(Filters.unknownMessage(name), nameToken.line()));
      }
      CallArgs a = current().isOp("(") ? parsePlainCallArgs()
          : new CallArgs(List.of(), List.of(), List.of(), null, null);
      node = new Node.Filter(node, name, a.args(), a.kwNames(), a.kwValues(), nameToken.line());
    }
    return node;
  }

  private Expr parseTest(Expr node) {
    Token is = next();
    boolean negated = skipName("not");
    Token nameToken = expect(Type.NAME, "a test name");
    String name = nameToken.value();
    while (current().isOp(".")) {
      next();
      name += "." + expect(Type.NAME, "a test name").value();
    }
    if (!JinjaTests.exists(name) && soft == 0) {
      unknownNames.add(new TemplateError(JinjaTests.unknownMessage(name), nameToken.line()));
    }
    List<Expr> args = new ArrayList<>();
    Token c = current();
    if (c.isOp("(")) {
      CallArgs a = parsePlainCallArgs();
      if (!a.kwNames().isEmpty()) {
        throw new TemplateError("keyword arguments to tests are not supported", nameToken.line());
      }
      args.addAll(a.args());
    } else if ((c.is(Type.NAME) || c.is(Type.STRING) || c.is(Type.INTEGER) || c.is(Type.FLOAT) || c.isOp("(")
            || c.isOp("[") || c.isOp("{"))
        && !c.isName("else") && !c.isName("or") && !c.isName("and")) {
      if (c.isName("is")) {
        throw error("you cannot chain multiple tests with 'is'");
      }
      args.add(parsePostfix(parsePrimary()));
    }
    Expr test = new Node.Test(node, name, args, is.line());
    return negated ? new Node.Not(test, is.line()) : test;
  }
}
