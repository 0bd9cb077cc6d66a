package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Templates that would run for minutes or exhaust memory end quickly as a {@link TemplateError} (exit 2, one
 * line) naming the limit they hit.
 */
class TemplateLimitsTest {
  @ParameterizedTest
  @ValueSource(strings = {
      "{{ ' ' * 10**9 }}",
      "{{ 'x'.center(10**9) }}",
      "{{ 'x'.ljust(10**12) }}",
      "{{ 'x' | indent(10**9) }}",
      "{{ messages | tojson(indent=10**9) }}",
      "{{ (range(10) | list) * 10**9 }}",
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
      "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
      "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
      "{{ '%s' % ('x' * 10**8) }}",
      "{{ '{:>999999999}'.format('x') }}",
      "{{ '%999999999d' % 1 }}",
      "{{ 'x' | center(10**9) }}",
      "{{ 2 ** (10**9) }}",
      "{{ 3 ** 2000000 }}",
      "{{ '%.999999999f' % 1.5 }}",
      "{% for i in range(100000) %}{{ '{}{}'.format('x' * 1000, i) }}{% endfor %}"})
  void aRunawayTemplateStopsAtALimit(String source) {
    TemplateError error = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(TemplateError.class,
        () -> Template.compile(source).render(Map.of("messages", List.of(Map.of("role", "user", "content", "hi"))))));
    assertTrue(error.getMessage().contains("limit") || error.getMessage().contains("over"), error.getMessage());
  }

  @ParameterizedTest
  @ValueSource(ints = {20_000})
  void aTemplateNestedTooDeeplyIsAnError(int depth) {
    String source = "{% if true %}".repeat(depth) + "x" + "{% endif %}".repeat(depth);
    TemplateError error = assertThrows(TemplateError.class, () -> Template.compile(source).render(Map.of()));
    assertTrue(error.getMessage().contains("too deeply"), error.getMessage());
    String expression = "{{ " + "(".repeat(depth) + "1" + ")".repeat(depth) + " }}";
    assertThrows(TemplateError.class, () -> Template.compile(expression).render(Map.of()));
  }

  /** A recursive loop or macro that never ends is an error, not a crash of the process. */
  @ParameterizedTest
  @ValueSource(strings = {"{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
      "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
      "{% macro m() %}{% call m() %}x{% endcall %}{% endmacro %}{{ m() }}"})
  void endlessRecursionIsAnError(String source) {
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(TemplateError.class,
        () -> Template.compile(source).render(Map.of())));
  }
}
