package dev.amalgam.chat;

import dev.amalgam.chat.Node.Stmt;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A compiled jinja2 template, rendered the way transformers renders chat templates: jinja2 with
 * {@code trim_blocks} and {@code lstrip_blocks}, the sandbox's refusal to mutate inputs, and the
 * {@code raise_exception}, {@code strftime_now} and {@code tojson} that transformers installs.
 */
public final class Template {
  private final List<Stmt> body;
  private final Supplier<ZonedDateTime> clock;

  private Template(List<Stmt> body, Supplier<ZonedDateTime> clock) {
    this.body = body;
    this.clock = clock;
  }

  /** Parses {@code source}; syntax errors and unsupported constructs are {@link TemplateError}s. */
  public static Template compile(String source) {
    try {
      return new Template(Parser.parse(source), ZonedDateTime::now);
    } catch (StackOverflowError e) {
      throw new TemplateError("the template nests too deeply to parse", 0);
    }
  }

  /** The same template with a fixed clock for {@code strftime_now} (for reproducible output and tests). */
  public Template withClock(Supplier<ZonedDateTime> clock) {
    return new Template(body, clock);
  }

  /** Renders with the given variables (Java maps, lists, strings, numbers, booleans and nulls). */
  public String render(Map<String, ?> variables) {
    Map<String, Object> vars = new LinkedHashMap<>();
    variables.forEach((k, v) -> vars.put(k, Py.fromJava(v)));
    try {
      return new Renderer(Globals.create(clock)).render(body, vars);
    } catch (StackOverflowError e) {
      throw new TemplateError("the template recursed too deeply", 0);
    }
  }
}
