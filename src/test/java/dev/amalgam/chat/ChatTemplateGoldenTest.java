package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.tokenizer.HfTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every golden chat renders byte-identically to transformers' apply_chat_template, and encodes to its ids. */
class ChatTemplateGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  List<DynamicTest> tinyTokenizerChats() {
    return chats("tiny-tokenizer", Fixtures.tinyTokenizer());
  }

  @TestFactory
  List<DynamicTest> qwen3TokenizerChats() {
    return chats("qwen3-tokenizer", Fixtures.qwen3Tokenizer());
  }

  private static List<DynamicTest> chats(String name, Path dir) {
    ChatTemplate template = ChatTemplate.load(dir);
    JsonNode cases = Fixtures.golden(name).get("chat");
    assertTrue(cases.size() >= 4, "golden chats present");
    List<DynamicTest> tests = new ArrayList<>();
    int i = 0;
    for (JsonNode c : cases) {
      tests.add(DynamicTest.dynamicTest(name + " chat " + i++, () -> {
        List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), new TypeReference<>() {});
        String rendered = template.render(messages, c.get("add_generation_prompt").booleanValue(), Map.of());
        assertEquals(c.get("rendered").textValue(), rendered);
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
          assertArrayEquals(Fixtures.ids(c.get("ids")), tokenizer.encode(rendered));
        }
      }));
    }
    return tests;
  }
}
