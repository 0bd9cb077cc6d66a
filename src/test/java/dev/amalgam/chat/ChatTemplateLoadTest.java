package dev.amalgam.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateLoadTest {
  private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "hi"));

  @Test
  void jinjaFileWinsOverTokenizerConfig(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"from config\"}");
    Files.writeString(dir.resolve("chat_template.jinja"), "from file\n");
    assertEquals("from file", ChatTemplate.load(dir).render(HI, false, Map.of()));
  }

  @Test
  void stringTemplateInConfigSeesSpecialTokens(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false},"
        + " \"eos_token\": \"</s>\", \"chat_template\": \"{{ bos_token }}{{ messages[0].content }}{{ eos_token }}\"}");
    assertEquals("<s>hi</s>", ChatTemplate.load(dir).render(HI, false, null));
  }

  @Test
  void namedTemplatesUseDefault(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": ["
        + "{\"name\": \"tool_use\", \"template\": \"tools\"}, {\"name\": \"default\", \"template\": \"plain\"}]}");
    assertEquals("plain", ChatTemplate.load(dir).render(HI, false, Map.of()));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}");
    UserError e = assertThrows(UserError.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("default") && e.getMessage().contains("rag"), e.getMessage());
  }

  @Test
  void missingTemplateIsAClearUserError(@TempDir Path dir) throws IOException {
    UserError e = assertThrows(UserError.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("no chat template"), e.getMessage());
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
    e = assertThrows(UserError.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("chat_template"), e.getMessage());
  }

  @Test
  void toolsAndDocumentsAreDefinedAsNoneLikeTransformersPassesThem() {
    ChatTemplate t = ChatTemplate.of("{{ tools is defined }} {{ tools is none }} {{ documents is none }} {{ add_generation_prompt }}"
        + " {{ enable_thinking is defined }}", Map.of());
    assertEquals("True True True True False", t.render(HI, true, null));
    assertEquals("True False True False True", t.render(HI, false, Map.of("tools", List.of(), "enable_thinking", false)));
  }

  @Test
  void syntaxErrorsSurfaceAtLoad(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}{{ m.content }}");
    TemplateError e = assertThrows(TemplateError.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("endfor"), e.getMessage());
  }
}
