package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** The golden multi-turn Qwen3 chat (system, user, assistant, user) and what transformers made of it. */
  private static JsonNode goldenChat() {
    return Fixtures.golden("qwen3-tokenizer").get("chat").get(2);
  }

  private static Path messagesFile(Path dir, JsonNode messages) throws IOException {
    Path file = dir.resolve("chat.json");
    Files.writeString(file, JSON.writeValueAsString(messages), StandardCharsets.UTF_8);
    return file;
  }

  private static String idList(JsonNode ids) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < ids.size(); i++) {
      sb.append(i > 0 ? ", " : "").append(ids.get(i).intValue());
    }
    return sb.append(']').toString();
  }

  @Test
  void printsTheRenderedPromptExactlyWithNoNewlineAdded(@TempDir Path tmp) throws IOException {
    JsonNode chat = goldenChat();
    assertTrue(chat.get("add_generation_prompt").booleanValue());
    Result r = run("template", Fixtures.qwen3Tokenizer().toString(), "--messages",
        messagesFile(tmp, chat.get("messages")).toString(), "--add-generation-prompt");
    assertEquals(0, r.code(), r.err());
    assertEquals(chat.get("rendered").textValue(), r.out());
  }

  @Test
  void idsFollowOnTheirOwnLine(@TempDir Path tmp) throws IOException {
    JsonNode chat = goldenChat();
    Result r = run("template", Fixtures.qwen3Tokenizer().toString(), "--messages",
        messagesFile(tmp, chat.get("messages")).toString(), "--add-generation-prompt", "--ids");
    assertEquals(0, r.code(), r.err());
    assertEquals(chat.get("rendered").textValue() + "\n" + idList(chat.get("ids")) + "\n", r.out());
  }

  @Test
  void jsonOutputCarriesRenderedAndIds(@TempDir Path tmp) throws IOException {
    JsonNode chat = Fixtures.golden("tiny-tokenizer").get("chat").get(3);
    assertFalse(chat.get("add_generation_prompt").booleanValue());
    Result r = run("template", Fixtures.tinyTokenizer().toString(), "--messages",
        messagesFile(tmp, chat.get("messages")).toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode out = JSON.readTree(r.out());
    assertEquals(chat.get("rendered").textValue(), out.get("rendered").textValue());
    assertEquals(chat.get("ids"), out.get("ids"));
  }

  @Test
  void readsMessagesFromStdinAndTakesVariables() {
    String messages = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi 🤖\"}]}";
    InputStream saved = System.in;
    Result r;
    try {
      System.setIn(new ByteArrayInputStream(messages.getBytes(StandardCharsets.UTF_8)));
      r = run("template", Fixtures.qwen3Tokenizer().toString(), "--messages", "-", "--add-generation-prompt",
          "--var", "enable_thinking=false");
    } finally {
      System.setIn(saved);
    }
    assertEquals(0, r.code(), r.err());
    assertEquals("<|im_start|>user\nHi 🤖<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", r.out());
  }

  @Test
  void templateRefusalIsAOneLineUsageError(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("chat_template.jinja"),
        "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}");
    Path file = messagesFile(tmp, JSON.readTree("[{\"role\": \"assistant\", \"content\": \"x\"}]"));
    Result r = run("template", tmp.toString(), "--messages", file.toString());
    assertEquals(2, r.code());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("error: ") && r.err().contains("first message must be from the user"), r.err());
    assertEquals(1, r.err().strip().split("\n").length, "one line, no stack trace: " + r.err());
  }

  @Test
  void missingTemplateOrBadMessagesAreUsageErrors(@TempDir Path tmp) throws IOException {
    Path model = Files.createDirectory(tmp.resolve("base-model"));
    Path file = messagesFile(tmp, JSON.readTree("[{\"role\": \"user\", \"content\": \"x\"}]"));
    Result r = run("template", model.toString(), "--messages", file.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("no chat template"), r.err());

    Files.writeString(file, "{\"role\": \"user\"}");
    r = run("template", Fixtures.tinyTokenizer().toString(), "--messages", file.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("JSON list"), r.err());

    r = run("template", tmp.resolve("nope").toString(), "--messages", file.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("model folder not found"), r.err());
  }

  @Test
  void helpTeachesWithExamples() {
    Result r = run("template", "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("--add-generation-prompt"), r.out());
    assertTrue(r.out().contains("Examples:"), r.out());
    assertTrue(run("--help").out().contains("template"), "registered in Main");
  }
}
