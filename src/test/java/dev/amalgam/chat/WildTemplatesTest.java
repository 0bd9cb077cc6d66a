package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays wild-cases.json: the 118 published chat templates of the shared fixtures' chat-templates-wild, each over
 * the conversations of generate_wild_cases.py (tools and tool calls, reasoning, documents, unicode and
 * Jinja-looking text, an integer beyond 64 bits), as jinja2 3.1.6 rendered them with transformers' settings. The
 * output must match byte for byte; where jinja2 raised, amalgam must raise too (with raise_exception's message).
 */
class WildTemplatesTest {
  private static final ZonedDateTime FIXED_NOW = ZonedDateTime.of(2026, 7, 4, 9, 5, 3, 0, ZoneId.systemDefault());

  @TestFactory
  List<DynamicTest> publishedTemplates() throws IOException {
    ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    JsonNode root;
    try (InputStream in = getClass().getResourceAsStream("/dev/amalgam/chat/wild-cases.json")) {
      root = json.readTree(in);
    }
    assertTrue(root.get("templates").size() >= 118, "the case file holds every template");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : root.get("cases")) {
      JsonNode template = root.get("templates").get(c.get("template").asText());
      JsonNode conversation = root.get("conversations").get(c.get("conversation").asText());
      String name = c.get("template").asText() + "/" + c.get("conversation").asText()
          + (c.get("add_generation_prompt").asBoolean() ? "" : "/no-prompt");
      tests.add(DynamicTest.dynamicTest(name, () -> {
        Map<String, Object> vars = new LinkedHashMap<>(
            json.convertValue(template.get("special"), new TypeReference<Map<String, Object>>() {}));
        vars.put("messages", json.convertValue(conversation.get("messages"), new TypeReference<List<Object>>() {}));
        vars.put("tools", json.convertValue(conversation.get("tools"), Object.class));
        vars.put("documents", json.convertValue(conversation.get("documents"), Object.class));
        vars.put("add_generation_prompt", c.get("add_generation_prompt").asBoolean());
        vars.putAll(json.convertValue(root.get("extra"), new TypeReference<Map<String, Object>>() {}));
        String source = template.get("template").asText();
        if (c.has("expected")) {
          String out = Template.compile(source).withClock(() -> FIXED_NOW).render(vars);
          assertEquals(c.get("expected").asText(), out, name);
        } else {
          String pythonError = c.get("error").asText();
          TemplateError e = assertThrows(TemplateError.class,
              () -> Template.compile(source).withClock(() -> FIXED_NOW).render(vars), "jinja2 raised " + pythonError);
          if (c.get("raised").asBoolean()) {
            assertTrue(e instanceof TemplateError.Raised, "raise_exception should give TemplateError.Raised: " + e);
            assertEquals(pythonError.substring("TemplateError: ".length()), e.reason());
          }
        }
      }));
    }
    return tests;
  }
}
