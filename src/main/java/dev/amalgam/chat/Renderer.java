package dev.amalgam.chat;

import dev.amalgam.chat.Node.Expr;
import dev.amalgam.chat.Node.Stmt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Executes parsed statements and evaluates expressions with jinja2's runtime rules: a {@code for} body gets
 * a fresh scope on every iteration (so a {@code set} inside a loop never leaks out, which is why templates
 * use {@code namespace}), {@code if} does not open a scope, and attribute access tries Python attributes
 * (methods) before dict keys while subscription tries keys first.
 */
final class Renderer {
  /** Variables of one frame; lookups fall through to the parent, then to the globals. */
  static final class Scope {
    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
      this.parent = parent;
    }

    Object lookup(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        if (s.vars.containsKey(name)) {
          return s.vars.get(name);
        }
      }
      return Py.MISSING;
    }

    void set(String name, Object value) {
      vars.put(name, value);
    }
  }

  private static final class BreakLoop extends RuntimeException {
    BreakLoop() {
      super(null, null, false, false);
    }
  }

  private static final class ContinueLoop extends RuntimeException {
    ContinueLoop() {
      super(null, null, false, false);
    }
  }

  private final Map<String, Object> globals;
  /** Loop iterations so far in this render, against {@link RenderLimits#MAX_ITERATIONS}. */
  private long iterations;
  /** The body of the set block being filtered (the implicit value of its filter chain). */
  private Object blockValue;

  Renderer(Map<String, Object> globals) {
    this.globals = globals;
  }

  String render(List<Stmt> body, Map<String, Object> vars) {
    Scope root = new Scope(null);
    vars.forEach(root::set);
    StringBuilder out = new StringBuilder();
    exec(body, root, out);
    return out.toString();
  }

  // ---- statements ----

  void exec(List<Stmt> body, Scope scope, StringBuilder out) {
    for (Stmt s : body) {
      exec(s, scope, out);
    }
  }

  private void exec(Stmt s, Scope scope, StringBuilder out) {
    if (s instanceof Node.Text t) {
      out.append(t.text());
      RenderLimits.checkChars(out.length(), t.line());
    } else if (s instanceof Node.Output o) {
      Object value = eval(o.expr(), scope);
      if (value instanceof PyCallable) {
        // Python would print "<built-in method ... at 0x...>": never meaningful, so refuse it.
        throw new TemplateError("cannot print a function or method (missing parentheses?)", o.line());
      }
      out.append(Py.str(value));
      RenderLimits.checkChars(out.length(), s.line());
    } else if (s instanceof Node.If i) {
      for (int k = 0; k < i.conditions().size(); k++) {
        if (Py.truthy(eval(i.conditions().get(k), scope))) {
          exec(i.bodies().get(k), scope, out);
          return;
        }
      }
      exec(i.orElse(), scope, out);
    } else if (s instanceof Node.For f) {
      execFor(f, scope, out);
    } else if (s instanceof Node.Set set) {
      // A Markup value keeps being Markup in the variable, so a later + escapes what is added to it.
      assign(set.target(), evalKeepingMarkup(set.value(), scope), scope, set.line());
    } else if (s instanceof Node.SetBlock sb) {
      StringBuilder captured = new StringBuilder();
      exec(sb.body(), scope, captured);
      Object value = captured.toString();
      if (sb.filter() != null) {
        Object saved = blockValue;
        blockValue = value;
        try {
          value = eval(sb.filter(), scope);
        } finally {
          blockValue = saved;
        }
      }
      assign(sb.target(), value, scope, sb.line());
    } else if (s instanceof Node.Macro m) {
      scope.set(m.name(), macro(m.name(), m.params(), m.defaults(), m.body(), scope));
    } else if (s instanceof Node.FilterBlock fb) {
      StringBuilder captured = new StringBuilder();
      exec(fb.body(), scope, captured);
      Object saved = blockValue;
      blockValue = captured.toString();
      try {
        out.append(Py.str(eval(fb.filter(), scope)));
      } finally {
        blockValue = saved;
      }
      RenderLimits.checkChars(out.length(), fb.line());
    } else if (s instanceof Node.CallBlock c) {
      PyCallable caller = macro("caller", c.params(), c.defaults(), c.body(), scope);
      Object result = call(c.call(), scope, caller);
      out.append(Py.str(result));
      RenderLimits.checkChars(out.length(), c.line());
    } else if (s instanceof Node.Break) {
      throw new BreakLoop();
    } else if (s instanceof Node.Continue) {
      throw new ContinueLoop();
    } else {
      throw new TemplateError("internal error: unknown statement " + s, s.line());
    }
  }

  private void execFor(Node.For f, Scope scope, StringBuilder out) {
    runLoop(f, eval(f.iterable(), scope), scope, out, 1);
  }

  /** The loop over {@code iterable} at recursion {@code depth} (1 for the loop as written). */
  private void runLoop(Node.For f, Object iterable, Scope scope, StringBuilder out, int depth) {
    List<Object> items = Py.iterate(iterable, f.line());
    if (f.filter() != null) {
      // The loop filter sees the target but not `loop`; loop.index etc. count only the kept items.
      List<Object> kept = new ArrayList<>();
      for (Object item : items) {
        Scope s = new Scope(scope);
        assign(f.target(), item, s, f.line());
        if (Py.truthy(eval(f.filter(), s))) {
          kept.add(item);
        }
      }
      items = kept;
    }
    PyCallable recurse = !f.recursive() ? null : (args, kwargs, line) -> {
      if (args.size() != 1 || !kwargs.isEmpty()) {
        throw new TemplateError("loop() takes exactly one iterable", line);
      }
      StringBuilder nested = new StringBuilder();
      runLoop(f, args.get(0), scope, nested, depth + 1);
      return nested.toString();
    };
    LoopContext loop = new LoopContext(items, depth, recurse);
    for (int i = 0; i < items.size(); i++) {
      if (++iterations > RenderLimits.MAX_ITERATIONS) {
        throw new TemplateError("the template's loops ran over " + RenderLimits.MAX_ITERATIONS + " iterations",
            f.line());
      }
      loop.index0 = i;
      Scope iteration = new Scope(scope);
      iteration.set("loop", loop);
      assign(f.target(), items.get(i), iteration, f.line());
      try {
        exec(f.body(), iteration, out);
      } catch (ContinueLoop c) {
        // next item
      } catch (BreakLoop b) {
        break;
      }
    }
    if (items.isEmpty()) {
      exec(f.orElse(), scope, out);
    }
  }

  private void assign(Expr target, Object value, Scope scope, int line) {
    if (target instanceof Node.Name n) {
      scope.set(n.name(), value);
    } else if (target instanceof Node.NsRef ref) {
      Object ns = scope.lookup(ref.name());
      if (!(ns instanceof Namespace namespace)) {
        throw new TemplateError("cannot assign attribute on non-namespace object '" + ref.name() + "'", line);
      }
      namespace.attributes.put(ref.attr(), value);
    } else if (target instanceof Node.TupleLit t) {
      List<Object> values = Py.iterate(value, line);
      if (values.size() != t.items().size()) {
        throw new TemplateError("cannot unpack " + values.size() + " values into " + t.items().size() + " names", line);
      }
      for (int i = 0; i < values.size(); i++) {
        assign(t.items().get(i), values.get(i), scope, line);
      }
    } else {
      throw new TemplateError("cannot assign to this expression", line);
    }
  }

  /**
   * A macro (or a call block's caller) as jinja2 makes it: its parameters, then, where its body mentions them,
   * {@code varargs} (the extra positional arguments, a tuple), {@code kwargs} (the extra keyword arguments, a dict)
   * and {@code caller}; extra arguments a body does not take are an error, as in jinja2.
   */
  private PyCallable macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body,
      Scope definition) {
    boolean takesVarargs = NodeScan.mentions(body, "varargs");
    boolean takesKwargs = NodeScan.mentions(body, "kwargs");
    boolean takesCaller = NodeScan.mentions(body, "caller");
    return (args, kwargs, line) -> {
      if (args.size() > params.size() && !takesVarargs) {
        throw new TemplateError("macro '" + name + "' takes not more than " + params.size() + " argument(s)", line);
      }
      Scope scope = new Scope(definition);
      int firstDefault = params.size() - defaults.size();
      for (int i = 0; i < params.size(); i++) {
        String p = params.get(i);
        Object v;
        if (i < args.size()) {
          v = args.get(i);
        } else if (kwargs.containsKey(p)) {
          v = kwargs.get(p);
        } else if (i >= firstDefault) {
          v = eval(defaults.get(i - firstDefault), scope);
        } else {
          v = Undefined.name(p);
        }
        scope.set(p, v);
      }
      Map<Object, Object> extra = new LinkedHashMap<>();
      for (Map.Entry<String, Object> k : kwargs.entrySet()) {
        if (params.contains(k.getKey())) {
          continue;
        }
        if (k.getKey().equals("caller") && takesCaller) {
          scope.set("caller", k.getValue());
        } else if (takesKwargs) {
          extra.put(k.getKey(), k.getValue());
        } else {
          throw new TemplateError("macro '" + name + "' takes no keyword argument '" + k.getKey() + "'", line);
        }
      }
      if (takesVarargs) {
        scope.set("varargs", new PyTuple(new ArrayList<>(args.subList(Math.min(args.size(), params.size()),
            args.size()))));
      }
      if (takesKwargs) {
        scope.set("kwargs", extra);
      }
      StringBuilder out = new StringBuilder();
      exec(body, scope, out);
      return out.toString();
    };
  }

  // ---- expressions ----

  /**
   * An expression's value. Markup (what {@code safe} and {@code escape} return) lives only inside a chain of
   * {@code +} and in variables set to it, where it escapes the plain strings added to it, as jinja2's Markup does;
   * everywhere else it is its text.
   */
  Object eval(Expr e, Scope scope) {
    Object v = evalKeepingMarkup(e, scope);
    return v instanceof Markup m ? m.text() : v;
  }

  private Object evalKeepingMarkup(Expr e, Scope scope) {
    if (e instanceof Node.BinOp b && b.op().equals("+")) {
      return Operators.binary("+", evalKeepingMarkup(b.left(), scope), evalKeepingMarkup(b.right(), scope), b.line());
    }
    if (e instanceof Node.Const c) return c.value();
    if (e instanceof Node.Name n) return lookup(n.name(), scope);
    if (e instanceof Node.GetAttr g) return getattr(eval(g.obj(), scope), g.attr(), g.line());
    if (e instanceof Node.GetItem g) return getitem(g, scope);
    if (e instanceof Node.BinOp b) return Operators.binary(b.op(), eval(b.left(), scope), eval(b.right(), scope), b.line());
    if (e instanceof Node.Unary u) return Operators.unary(u.op(), eval(u.operand(), scope), u.line());
    if (e instanceof Node.Not n) return !Py.truthy(eval(n.operand(), scope));
    if (e instanceof Node.And a) {
      Object left = eval(a.left(), scope);
      return Py.truthy(left) ? eval(a.right(), scope) : left;
    }
    if (e instanceof Node.Or o) {
      Object left = eval(o.left(), scope);
      return Py.truthy(left) ? left : eval(o.right(), scope);
    }
    if (e instanceof Node.Compare c) return compare(c, scope);
    if (e instanceof Node.CondExpr c) {
      if (Py.truthy(eval(c.test(), scope))) return eval(c.then(), scope);
      return c.orElse() == null ? Undefined.name("<inline if>") : eval(c.orElse(), scope);
    }
    if (e instanceof Node.Call c) return call(c, scope);
    if (e instanceof Node.Filter f) {
      Object value = f.value() == null ? blockValue : eval(f.value(), scope);
      return Filters.apply(this, f.name(), value, evalAll(f.args(), scope), kwargs(f.kwNames(), f.kwValues(), scope),
          f.line());
    }
    if (e instanceof Node.Test t) {
      return JinjaTests.apply(this, t.name(), eval(t.value(), scope), evalAll(t.args(), scope), t.line());
    }
    if (e instanceof Node.ListLit l) return evalAll(l.items(), scope);
    if (e instanceof Node.TupleLit t) return new PyTuple(evalAll(t.items(), scope));
    if (e instanceof Node.DictLit d) {
      Map<Object, Object> map = new LinkedHashMap<>();
      for (int i = 0; i < d.keys().size(); i++) {
        // Python keeps the first of equal keys (1 and True are one key) and the last value.
        Object key = eval(d.keys().get(i), scope);
        Object existing = Py.findKey(map, key);
        map.put(existing == Py.MISSING ? key : existing, eval(d.values().get(i), scope));
      }
      return map;
    }
    throw new TemplateError("internal error: cannot evaluate " + e, e.line());
  }

  private List<Object> evalAll(List<Expr> exprs, Scope scope) {
    List<Object> out = new ArrayList<>(exprs.size());
    for (Expr x : exprs) {
      out.add(eval(x, scope));
    }
    return out;
  }

  private Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      out.put(names.get(i), eval(values.get(i), scope));
    }
    return out;
  }

  private Object lookup(String name, Scope scope) {
    Object v = scope.lookup(name);
    if (v != Py.MISSING) return v;
    if (globals.containsKey(name)) return globals.get(name);
    return Undefined.name(name);
  }

  private Object compare(Node.Compare c, Scope scope) {
    Object left = eval(c.first(), scope);
    for (int i = 0; i < c.ops().size(); i++) {
      Object right = eval(c.rest().get(i), scope);
      if (!Operators.compare(c.ops().get(i), left, right, c.line())) {
        return false;
      }
      left = right;
    }
    return true;
  }

  private Object call(Node.Call c, Scope scope) {
    return call(c, scope, null);
  }

  /** A call, its *args and **kwargs spread; with a {@code caller} (a call block's), that too. */
  private Object call(Node.Call c, Scope scope, PyCallable caller) {
    Object callee = eval(c.callee(), scope);
    List<Object> args = evalAll(c.args(), scope);
    Map<String, Object> kwargs = kwargs(c.kwNames(), c.kwValues(), scope);
    if (c.starArgs() != null) {
      args.addAll(Py.iterate(eval(c.starArgs(), scope), c.line()));
    }
    if (c.starKwargs() != null) {
      if (!(eval(c.starKwargs(), scope) instanceof Map<?, ?> extra)) {
        throw new TemplateError("argument after ** must be a mapping", c.line());
      }
      for (Map.Entry<?, ?> e : extra.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new TemplateError("keywords must be strings", c.line());
        }
        kwargs.put(key, e.getValue());
      }
    }
    if (caller != null) {
      kwargs.put("caller", caller);
    }
    if (callee instanceof LoopContext loop) {
      return loop.recursion(c.line()).call(args, kwargs, c.line());
    }
    if (callee instanceof PyCallable fn) {
      return fn.call(args, kwargs, c.line());
    }
    if (callee instanceof Undefined u) {
      throw u.error(c.line());
    }
    throw new TemplateError("'" + Py.typeName(callee) + "' object is not callable", c.line());
  }

  // ---- attribute and item access ----

  /** {@code obj.attr}: a Python attribute (method) first, then a dict key, else Undefined. */
  Object getattr(Object obj, String attr, int line) {
    if (obj instanceof Undefined u) throw u.error(line);
    if (obj instanceof Namespace ns) {
      return ns.attributes.containsKey(attr) ? ns.attributes.get(attr) : Undefined.attribute(obj, attr);
    }
    if (obj instanceof LoopContext loop) {
      Object v = loop.attribute(attr);
      if (v == null) {
        return Undefined.attribute(obj, attr);
      }
      return v;
    }
    if (obj instanceof GroupTuple group && group.attribute(attr) != null) {
      return group.attribute(attr);
    }
    Object method = PyMethods.lookup(obj, attr, line);
    if (method != null) return method;
    if (obj instanceof Map<?, ?> map) {
      Object key = Py.findKey(map, attr);
      if (key != Py.MISSING) return map.get(key);
    }
    return Undefined.attribute(obj, attr);
  }

  private Object getitem(Node.GetItem g, Scope scope) {
    Object obj = eval(g.obj(), scope);
    if (obj instanceof Undefined u) throw u.error(g.line());
    if (g.key() instanceof Node.Slice s) {
      return Operators.slice(obj, evalSliceIndex(s.start(), scope, s.line()), evalSliceIndex(s.stop(), scope, s.line()),
          evalSliceIndex(s.step(), scope, s.line()), s.line());
    }
    return getitem(obj, eval(g.key(), scope), g.line());
  }

  private Long evalSliceIndex(Expr e, Scope scope, int line) {
    if (e == null) return null;
    Object v = eval(e, scope);
    if (v == null) return null;
    if (Py.isInt(v)) return Py.asLong(v);
    throw new TemplateError("slice indices must be integers or None, not " + Py.typeName(v), line);
  }

  /** {@code obj[key]}: the item first, then (for a string key) the attribute, else Undefined. */
  Object getitem(Object obj, Object key, int line) {
    if (obj instanceof Undefined u) throw u.error(line);
    if (obj instanceof Map<?, ?> map) {
      Object k = Py.findKey(map, key);
      if (k != Py.MISSING) return map.get(k);
    } else if ((obj instanceof List || obj instanceof String) && Py.isInt(key)) {
      return Operators.index(obj, Py.asLong(key));
    }
    if (key instanceof String attr && !(obj instanceof Map)) {
      return getattr(obj, attr, line);
    }
    if (key instanceof String attr) {
      Object method = PyMethods.lookup(obj, attr, line);
      if (method != null) return method;
    }
    return Undefined.item(obj, key);
  }
}
