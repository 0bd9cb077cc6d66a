package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One focused check per construct chat templates rely on (expected values are what jinja2 prints). */
class TemplateConstructsTest {
  private static final List<Map<String, Object>> MESSAGES =
      List.of(message("system", "S"), message("user", "U1"), message("assistant", "A1"), message("user", "U2"));

  /** Insertion-ordered, like a Python dict (Map.of's order is unspecified and changes between runs). */
  private static Map<String, Object> message(String role, String content) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  private static String render(String template) {
    return Template.compile(template).render(Map.of("messages", MESSAGES, "x", 5));
  }

  private static TemplateError failure(String template) {
    return assertThrows(TemplateError.class, () -> render(template));
  }

  @Test
  void whitespaceControlAndTrimLstripBlocks() {
    // trim_blocks eats the newline after a block tag; lstrip_blocks the indentation before it.
    assertEquals("a\n  b\nc", render("a\n  {% if true %}\n  b\n  {% endif %}\nc"));
    // '-' strips all whitespace on that side, newlines included.
    assertEquals("a[x]b", render("a  \n {{- '[x]' -}} \n  b"));
    assertEquals("ab", render("a\n{%- if true -%}\n\n b{% endif %}"));
    // '+' turns lstrip/trim off for that tag.
    assertEquals("a\n  \nbc", render("a\n  {%+ if true +%}\nb{% endif %}\nc"));
    // Variables are never lstripped; comments are.
    assertEquals("  v\nafter", render("  {{ 'v' }}\n  {# gone #}\nafter"));
    // One trailing newline of the template source is dropped, as jinja2 does.
    assertEquals("x", render("x\n"));
    assertEquals("1\n2\n", render("{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}"));
  }

  @Test
  void namespaceCarriesStateOutOfLoops() {
    assertEquals("3", render("{% set ns = namespace(n=0) %}{% for m in messages if m.role != 'system' %}"
        + "{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"));
    // A plain set inside a loop does not leak out, and each iteration starts from the outer value.
    assertEquals("1 11 11 11 11 1", render("{% set v = 1 %}{{ v }}{% for m in messages %} {% set v = v + 10 %}{{ v }}{% endfor %} {{ v }}"));
    TemplateError e = failure("{% set v = 1 %}{% set v.attr = 2 %}");
    assertTrue(e.getMessage().contains("namespace"), e.getMessage());
  }

  @Test
  void loopVariables() {
    assertEquals("0:S:first 1:U1: 2:A1: 3:U2:last(4)",
        render("{% for m in messages %}{{ loop.index0 }}:{{ m.content }}:{% if loop.first %}first{% endif %}"
            + "{% if loop.last %}last({{ loop.length }}){% else %} {% endif %}{% endfor %}"));
    assertEquals("1,2,3,4", render("{% for m in messages %}{{ loop.index }}{{ ',' if not loop.last }}{% endfor %}"));
    assertEquals("02", render("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}"));
    assertEquals("none", render("{% for i in [] %}x{% else %}none{% endfor %}"));
  }

  @Test
  void reverseSliceAndNegativeIndices() {
    assertEquals("U2 A1 U1 S", render("{% for m in messages[::-1] %}{{ m.content }}{{ ' ' if not loop.last }}{% endfor %}"));
    assertEquals("U2|A1|['A1', 'U2']|cba|[3, 1]", render(
        "{{ messages[-1].content }}|{{ messages[-2]['content'] }}|{{ (messages|map(attribute='content')|list)[-2:] }}"
            + "|{{ 'abc'[::-1] }}|{{ [1, 2, 3][::-2] }}"));
  }

  @Test
  void definedNoneAndStringTests() {
    assertEquals("True False True False", render("{{ x is defined }} {{ y is defined }} {{ y is not defined }} {{ x is none }}"));
    assertEquals("True False True", render("{{ none is none }} {{ 0 is none }} {{ x is not none }}"));
    assertEquals("True False False", render("{{ 'a' is string }} {{ 5 is string }} {{ messages is string }}"));
    assertEquals("True True True False", render("{{ messages is sequence }} {{ messages[0] is mapping }} {{ x is number }} {{ x is iterable }}"));
    assertEquals("[]", render("[{{ undefined_var }}]"));
  }

  @Test
  void undefinedValuesBehaveAsJinja2Default() {
    assertEquals("[] False 0", render("[{{ nope }}] {{ nope | default(false) }} {{ nope | length }}"));
    assertEquals("", render("{{ messages[0].nope }}"));
    // Going through an undefined value is an error in jinja2 (not another undefined).
    TemplateError e = failure("{{ nope.attr }}");
    assertTrue(e.getMessage().contains("'nope' is undefined"), e.getMessage());
  }

  @Test
  void tojsonIsPythonJsonDumpsWithoutAsciiEscaping() {
    assertEquals("{\"role\": \"system\", \"content\": \"S\"}", render("{{ messages[0] | tojson }}"));
    assertEquals("{\"é\": [1, 2.5, null, true, \"\\\"q\\\"\\n\"]}", render("{{ {'é': [1, 2.5, none, true, '\"q\"\\n']} | tojson }}"));
    assertEquals("{\n  \"a\": [\n    1\n  ]\n}", render("{{ {'a': [1]} | tojson(indent=2) }}"));
  }

  @Test
  void trimAndOtherFilters() {
    assertEquals("[x]", render("[{{ '  x \\n' | trim }}]"));
    assertEquals("S,U1,A1,U2 4 SYSTEM user", render("{{ messages | map(attribute='content') | join(',') }} {{ messages | length }} "
        + "{{ messages[0].role | upper }} {{ (messages | last).role | lower }}"));
    assertEquals("5 [('k', 1)] fallback", render("{{ x | string }} {{ {'k': 1} | items | list }} {{ nope | default('fallback') }}"));
  }

  @Test
  void pythonStringMethods() {
    assertEquals("['a', 'b', '']", render("{{ 'a,b,'.split(',') }}"), "split keeps trailing empty strings");
    assertEquals("['', 'x', '']", render("{{ '<t>x<t>'.split('<t>') }}"));
    assertEquals("['a', 'b']", render("{{ '  a \\n b  '.split() }}"));
    assertEquals("[hi]|[hi\n]|[\n\nhi]|[hi]", render("[{{ '\\n\\nhi\\n'.strip() }}]|[{{ '\\nhi\\n'.lstrip('\\n') }}]"
        + "|[{{ '\\n\\nhi  '.rstrip() }}]|[{{ 'xxhixx'.strip('x') }}]"));
    assertEquals("True False True", render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('b') }} {{ 'abc'.startswith(('z', 'a')) }}"));
    assertEquals("HI hi Hello World They'Re", render("{{ 'hi'.upper() }} {{ 'HI'.lower() }} {{ 'hello world'.title() }} {{ \"they're\".title() }}"));
    assertEquals("b-b-a", render("{{ 'a-a-a'.replace('a', 'b', 2) }}"));
    assertEquals("1 None dflt ['role', 'content'] ['S']", render("{% set d = {'k': 1} %}{{ d.get('k') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} "
        + "{{ messages[0].keys() | list }} {{ messages[:1] | map(attribute='content') | list }}"));
  }

  @Test
  void attributeAndItemAccessOnMaps() {
    assertEquals("system system", render("{{ messages[0].role }} {{ messages[0]['role'] }}"));
    // Attribute syntax finds dict methods before keys; subscription finds keys first.
    assertEquals("key", Template.compile("{{ d['items'] }}").render(Map.of("d", Map.of("items", "key"))));
    assertEquals("[('items', 'key')]", Template.compile("{{ d.items() | list }}").render(Map.of("d", Map.of("items", "key"))));
  }

  @Test
  void transformersGenerationTagRendersItsBody() {
    assertEquals("<a>A1</a>", render("{% for m in messages if m.role == 'assistant' %}<a>{% generation %}{{ m.content }}"
        + "{% endgeneration %}</a>{% endfor %}"));
  }

  @Test
  void runtimeErrorsCarryTheirLine() {
    TemplateError e = failure("ok\n{% set n = 1 %}\n{{ n + 'x' }}");
    assertEquals(3, e.line());
    assertTrue(e.getMessage().startsWith("chat template line 3: unsupported operand"), e.getMessage());
  }

  @Test
  void raiseExceptionIsAUserErrorCarryingTheMessage() {
    TemplateError e = failure("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}");
    assertInstanceOf(TemplateError.Raised.class, e);
    assertInstanceOf(UserError.class, e);
    assertEquals("System role not supported", e.reason());
    assertEquals(1, e.line());
    assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
  }

  @Test
  void unsupportedConstructsAreErrorsNamingThemAndTheirLine() {
    TemplateError filter = failure("line one\n{{ x | frobnicate }}");
    assertTrue(filter.getMessage().contains("frobnicate") && filter.line() == 2, filter.getMessage());
    TemplateError jinjaFilter = failure("{{ messages | xmlattr }}");
    assertTrue(jinjaFilter.getMessage().contains("'xmlattr' is not supported"), jinjaFilter.getMessage());
    TemplateError tag = failure("\n\n{% include 'other.jinja' %}");
    assertTrue(tag.getMessage().contains("'include'") && tag.line() == 3, tag.getMessage());
    TemplateError unknownTag = failure("{% frob %}");
    assertTrue(unknownTag.getMessage().contains("unknown tag 'frob'"), unknownTag.getMessage());
    TemplateError test = failure("{{ x is frobbable }}");
    assertTrue(test.getMessage().contains("frobbable"), test.getMessage());
    TemplateError method = failure("{{ '{x}'.format_map({'x': 1}) }}");
    assertTrue(method.getMessage().contains("'format_map'"), method.getMessage());
    TemplateError percent = failure("{{ '%*d' % (3, 4) }}");
    assertTrue(percent.getMessage().contains("'*' widths"), percent.getMessage());
    TemplateError nested = failure("{{ '{:{w}}'.format(1, w=3) }}");
    assertTrue(nested.getMessage().contains("nested replacement fields"), nested.getMessage());
    TemplateError callable = failure("{{ 'x'.upper }}");
    assertTrue(callable.getMessage().contains("cannot print a function"), callable.getMessage());
    TemplateError mutate = failure("{{ messages.append(1) }}");
    assertTrue(mutate.getMessage().contains("'append'"), mutate.getMessage());
    TemplateError syntax = failure("{% if x %}never closed");
    assertTrue(syntax.getMessage().contains("endif"), syntax.getMessage());
  }
}
