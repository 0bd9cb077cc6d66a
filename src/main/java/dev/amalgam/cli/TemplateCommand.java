package dev.amalgam.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.chat.ChatTemplate;
import dev.amalgam.tokenizer.HfTokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam template}: shows the exact prompt (and token ids) a conversation becomes for a model. */
@Command(
    name = "template",
    mixinStandardHelpOptions = true,
    description = {
      "Render a model's chat template for a conversation, byte for byte as transformers does.",
      "The output is what transformers' apply_chat_template returns; --ids also shows the token ids.",
      "",
      "The template comes from MODEL_DIR/chat_template.jinja, or else from the \"chat_template\"",
      "of MODEL_DIR/tokenizer_config.json. The prompt is printed exactly, with no newline added."
    },
    footer = {
      "",
      "The messages file is a JSON list such as",
      "  [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}]",
      "or an object {\"messages\": [...], ...} whose other keys (tools, documents, enable_thinking, ...)",
      "become template variables.",
      "",
      "Examples:",
      "  amalgam template ./Qwen3-0.6B --messages chat.json --add-generation-prompt",
      "  echo '[{\"role\":\"user\",\"content\":\"Hi\"}]' | amalgam template ./model --messages - --ids",
      "  amalgam template ./model --messages chat.json --var enable_thinking=false --json",
      "",
      "With --ids the prompt is followed by a newline and then the ids as a JSON list on one line.",
      "The ids are the prompt encoded without adding special tokens again (the template wrote them)."
    })
public final class TemplateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A conversation beyond this is beyond any context window. */
  private static final long MAX_MESSAGES_BYTES = 16L << 20;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL_DIR",
      description = "Model folder with tokenizer_config.json / chat_template.jinja (and tokenizer.json for --ids).")
  Path modelDir;

  @Option(names = "--messages", required = true, paramLabel = "FILE.json",
      description = "The conversation: a JSON file, or - to read it from standard input.")
  String messagesFile;

  @Option(names = "--add-generation-prompt",
      description = "End with the opening of an assistant turn, as when prompting the model to reply.")
  boolean addGenerationPrompt;

  @Option(names = "--ids", description = "Also print the token ids of the rendered prompt.")
  boolean ids;

  @Option(names = "--json", description = "Print {\"rendered\": ..., \"ids\": [...]} as one JSON object instead.")
  boolean json;

  @Option(names = "--var", paramLabel = "NAME=VALUE",
      description = "An extra template variable; VALUE is read as JSON if it parses (false, 3, [..]), "
          + "else as a string. Repeatable.")
  Map<String, String> vars = new LinkedHashMap<>();

  @Override
  public Integer call() {
    if (!Files.isDirectory(modelDir)) {
      throw new UserError("model folder not found: " + modelDir);
    }
    Map<String, Object> extra = new LinkedHashMap<>();
    List<Map<String, Object>> messages = readMessages(extra);
    vars.forEach((k, v) -> extra.put(k, parseVar(v)));

    String rendered = ChatTemplate.load(modelDir).render(messages, addGenerationPrompt, extra);
    PrintWriter out = spec.commandLine().getOut();
    if (json || ids) {
      int[] tokenIds;
      try (HfTokenizer tokenizer = HfTokenizer.load(modelDir)) {
        tokenIds = tokenizer.encode(rendered);
      }
      if (json) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("rendered", rendered);
        result.put("ids", tokenIds);
        out.print(toJson(result));
        out.print('\n');
      } else {
        out.print(rendered);
        out.print('\n');
        out.print(idList(tokenIds));
        out.print('\n');
      }
    } else {
      out.print(rendered);
    }
    out.flush();
    return ExitCodes.OK;
  }

  private List<Map<String, Object>> readMessages(Map<String, Object> extra) {
    Object parsed;
    String where = messagesFile.equals("-") ? "standard input" : messagesFile;
    String text = messagesFile.equals("-")
        ? BoundedText.read(System.in, MAX_MESSAGES_BYTES, "the messages on standard input")
        : BoundedText.read(Path.of(messagesFile), MAX_MESSAGES_BYTES, "messages file");
    try {
      parsed = JSON.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      throw new UserError("the messages in " + where + " are not valid JSON: " + e.getOriginalMessage());
    }
    if (parsed instanceof Map<?, ?> object && object.get("messages") instanceof List) {
      object.forEach((k, v) -> {
        if (!"messages".equals(k)) {
          extra.put(String.valueOf(k), v);
        }
      });
      parsed = object.get("messages");
    }
    if (!(parsed instanceof List<?> list)) {
      throw new UserError("the messages in " + where + " must be a JSON list of {\"role\": ..., \"content\": ...} objects");
    }
    List<Map<String, Object>> messages = new ArrayList<>();
    for (Object item : list) {
      if (!(item instanceof Map<?, ?> map)) {
        throw new UserError("each message in " + where + " must be a JSON object, got: " + item);
      }
      Map<String, Object> message = new LinkedHashMap<>();
      map.forEach((k, v) -> message.put(String.valueOf(k), v));
      messages.add(message);
    }
    return messages;
  }

  private static Object parseVar(String value) {
    try {
      return JSON.readValue(value, Object.class);
    } catch (JsonProcessingException e) {
      return value;
    }
  }

  private static String idList(int[] ids) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < ids.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append(ids[i]);
    }
    return sb.append(']').toString();
  }

  private static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
