package dev.amalgam.chat;

import java.math.BigInteger;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** jinja2's tests ({@code x is defined}, {@code x is string}, ...) with its exact type rules. */
final class JinjaTests {
  private JinjaTests() {}

  @FunctionalInterface
  private interface Test {
    boolean test(Renderer r, Object value, List<Object> args, int line);
  }

  private static final Map<String, Test> TESTS = new HashMap<>();
  private static final Set<String> JINJA_ONLY = Set.of("escaped", "filter", "test");

  static boolean exists(String name) {
    return TESTS.containsKey(name);
  }

  static String unknownMessage(String name) {
    return JINJA_ONLY.contains(name)
        ? "the jinja2 test '" + name + "' is not supported by this renderer"
        : "unknown test '" + name + "'";
  }

  static Object apply(Renderer r, String name, Object value, List<Object> args, int line) {
    Test t = TESTS.get(name);
    if (t == null) {
      throw new TemplateError(unknownMessage(name), line);
    }
    return t.test(r, value, args, line);
  }

  private static void register(Test t, String... names) {
    for (String n : names) {
      TESTS.put(n, t);
    }
  }

  private static Object arg(List<Object> args, String test, int line) {
    if (args.size() != 1) {
      throw new TemplateError("test '" + test + "' takes exactly one argument", line);
    }
    return args.get(0);
  }

  static {
    register((r, v, a, l) -> !(v instanceof Undefined), "defined");
    register((r, v, a, l) -> v instanceof Undefined, "undefined");
    register((r, v, a, l) -> v == null, "none");
    register((r, v, a, l) -> v instanceof String, "string");
    // Python bools are ints, so jinja2's `number` accepts them; `integer` explicitly does not.
    register((r, v, a, l) -> Py.isNumber(v), "number");
    register((r, v, a, l) -> v instanceof Long || v instanceof BigInteger, "integer");
    register((r, v, a, l) -> v instanceof Double, "float");
    register((r, v, a, l) -> v instanceof Boolean, "boolean");
    register((r, v, a, l) -> Boolean.TRUE.equals(v), "true");
    register((r, v, a, l) -> Boolean.FALSE.equals(v), "false");
    register((r, v, a, l) -> v instanceof Map, "mapping");
    // jinja2's test_sequence is "has len() and __getitem__": str, list, tuple, dict, and even Undefined.
    register((r, v, a, l) -> v instanceof String || v instanceof Collection || v instanceof Map || v instanceof Undefined,
        "sequence");
    register((r, v, a, l) -> v instanceof String || v instanceof Collection || v instanceof Map || v instanceof Undefined,
        "iterable");
    register((r, v, a, l) -> v instanceof PyCallable, "callable");
    register((r, v, a, l) -> {
      if (!Py.isInt(v)) throw new TemplateError("test 'odd' needs an integer", l);
      return Math.floorMod(Py.asLong(v), 2) == 1;
    }, "odd");
    register((r, v, a, l) -> {
      if (!Py.isInt(v)) throw new TemplateError("test 'even' needs an integer", l);
      return Math.floorMod(Py.asLong(v), 2) == 0;
    }, "even");
    register((r, v, a, l) -> {
      Object n = arg(a, "divisibleby", l);
      return Py.truthy(Operators.binary("%", v, n, l)) == false;
    }, "divisibleby");
    register((r, v, a, l) -> Py.eq(v, arg(a, "eq", l)), "eq", "equalto", "==");
    register((r, v, a, l) -> !Py.eq(v, arg(a, "ne", l)), "ne", "!=");
    register((r, v, a, l) -> Py.compare(v, arg(a, "lt", l), "<", l) < 0, "lt", "lessthan", "<");
    register((r, v, a, l) -> Py.compare(v, arg(a, "le", l), "<=", l) <= 0, "le", "<=");
    register((r, v, a, l) -> Py.compare(v, arg(a, "gt", l), ">", l) > 0, "gt", "greaterthan", ">");
    register((r, v, a, l) -> Py.compare(v, arg(a, "ge", l), ">=", l) >= 0, "ge", ">=");
    register((r, v, a, l) -> Operators.contains(arg(a, "in", l), v, l), "in");
    register((r, v, a, l) -> {
      Object other = arg(a, "sameas", l);
      // Python identity: only meaningful for None/True/False singletons here.
      return v == null ? other == null : (v instanceof Boolean && v.equals(other)) || v == other;
    }, "sameas");
    register((r, v, a, l) -> v instanceof String s && s.equals(s.toLowerCase(java.util.Locale.ROOT)), "lower");
    register((r, v, a, l) -> v instanceof String s && s.equals(s.toUpperCase(java.util.Locale.ROOT)), "upper");
  }
}
