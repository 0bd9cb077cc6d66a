package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.chat.ChatTemplate;
import dev.amalgam.cli.CliRun;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config's {@code chat_template}: auto, or a template's text, written into the output; anything else refused. */
class ChatTemplateChoiceTest {
  private static final String TEMPLATE =
      "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\\n{% endfor %}{% if add_generation_prompt %}<a>{% endif %}";

  @TempDir Path dir;

  @Test
  void autoTakesTheModelsTemplate() throws Exception {
    Path out = merge("chat_template: auto\n");
    assertEquals(ChatTemplate.load(Fixtures.A).source(), ChatTemplate.load(out).source());
  }

  @Test
  void aTemplatesTextBecomesTheOutputs() throws Exception {
    Path out = merge("chat_template: \"" + TEMPLATE + "\"\n");
    String written = Files.readString(out.resolve(ChatTemplate.JINJA_FILE));
    assertTrue(written.startsWith("{% for m in messages %}"), written);
    assertEquals(written, ChatTemplate.load(out).source());
    var config = new ObjectMapper().readTree(out.resolve("tokenizer_config.json").toFile());
    assertTrue(!config.has("chat_template") || config.get("chat_template").asText().equals(written),
        "tokenizer_config.json does not disagree");
    Path messages = Files.writeString(dir.resolve("messages.json"), "[{\"role\": \"user\", \"content\": \"hi\"}]");
    CliRun rendered = CliRun.of("template", out.toString(), "--messages", messages.toString());
    assertEquals(0, rendered.exitCode(), rendered.err());
    assertTrue(rendered.out().contains("<user>hi"), rendered.out());
  }

  @Test
  void builtInNamesAndBrokenTemplatesAreRefused() throws Exception {
    CliRun named = run("chat_template: chatml\n");
    assertEquals(2, named.exitCode());
    assertTrue(named.err().contains("built-in"), named.err());
    CliRun broken = run("chat_template: \"{% for m in messages %}{{ m.content }}\"\n");
    assertEquals(2, broken.exitCode());
    assertFalse(broken.err().contains("\tat "), broken.err());
    assertFalse(Files.exists(dir.resolve("out")));
  }

  private Path merge(String extra) throws Exception {
    CliRun run = run(extra);
    assertEquals(0, run.exitCode(), run.err());
    return dir.resolve("out");
  }

  private CliRun run(String extra) throws Exception {
    Path config = TestModels.config(dir, TestModels.models("0.3", "0.7") + "merge_method: linear\n" + extra);
    return CliRun.of("merge", config.toString(), dir.resolve("out").toString(), "--device", "cpu");
  }
}
