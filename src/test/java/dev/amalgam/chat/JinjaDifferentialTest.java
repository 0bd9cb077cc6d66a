package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays jinja-cases.json: several hundred templates (real chat templates over varied conversations,
 * whitespace control, expressions, filters, tests, loops, scoping, errors) rendered by real jinja2 with
 * transformers' settings (see generate_jinja_cases.py). Output must match byte for byte; where jinja2
 * raised, this renderer must raise a TemplateError too (with raise_exception's exact message).
 */
class JinjaDifferentialTest {
  private static final ZonedDateTime FIXED_NOW = ZonedDateTime.of(2026, 7, 4, 9, 5, 3, 0, ZoneId.systemDefault());

  @TestFactory
  List<DynamicTest> jinja2Cases() throws IOException {
    JsonNode cases;
    try (InputStream in = getClass().getResourceAsStream("/dev/amalgam/chat/jinja-cases.json")) {
      cases = new ObjectMapper().readTree(in);
    }
    assertTrue(cases.size() > 200, "case file present");
    ObjectMapper json = new ObjectMapper();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : cases) {
      String name = c.get("name").textValue();
      String source = c.get("template").textValue();
      Map<String, Object> vars = json.convertValue(c.get("vars"), new TypeReference<>() {});
      tests.add(DynamicTest.dynamicTest(name, () -> {
        if (c.has("expected")) {
          String out = Template.compile(source).withClock(() -> FIXED_NOW).render(vars);
          assertEquals(c.get("expected").textValue(), out, name);
        } else {
          String pythonError = c.get("error").textValue();
          TemplateError e = assertThrows(TemplateError.class,
              () -> Template.compile(source).withClock(() -> FIXED_NOW).render(vars),
              "jinja2 raised " + pythonError);
          if (c.get("raised").booleanValue()) {
            assertTrue(e instanceof TemplateError.Raised, "raise_exception should give TemplateError.Raised: " + e);
            assertEquals(pythonError.substring("TemplateError: ".length()), e.reason());
          }
        }
      }));
    }
    return tests;
  }
}
