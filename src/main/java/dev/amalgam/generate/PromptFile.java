package dev.amalgam.generate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A JSON Lines file of prompts for batched generation. Each non-blank line is either a JSON string (the prompt)
 * or an object:
 * <pre>
 *   {"prompt": "...", "id": any, "chat": bool, "system": "...", "max_new_tokens": n, "seed": n}
 * </pre>
 * Only {@code prompt} is required. Unknown keys are refused, so a misspelt option cannot silently be ignored.
 */
public final class PromptFile {
  /** Batches of many long prompts stay well below this; it keeps the file's text within memory. */
  private static final long MAX_BYTES = 256L << 20;
  private static final Set<String> KEYS = Set.of("prompt", "id", "chat", "system", "max_new_tokens", "seed");

  /**
   * One prompt as the file gives it; absent options are null and take the command line's values.
   *
   * @param line the 1-based line number, which is also the id when the line gives none
   */
  public record Line(int line, JsonNode id, String prompt, Boolean chat, String system, Integer maxNewTokens,
      Long seed) {

    /**
     * This line as a request to {@code model}: the command line's settings and chat choice, overridden where
     * the line says. A line without a seed samples with the command line's seed plus {@code index} (its place
     * among the prompts, from 0), so that lines differ from each other and none depends on its batch.
     */
    public GenerationRequest toRequest(LanguageModel model, GenerationSettings defaults, int index,
        boolean defaultChat, String defaultSystem) {
      String label = "line " + line;
      boolean asChat = chat != null ? chat : defaultChat;
      if (system != null && !asChat) {
        throw new UserError(label + ": \"system\" needs \"chat\": true (or --chat)");
      }
      String text = asChat ? model.chatPrompt(system != null ? system : defaultSystem, prompt) : prompt;
      GenerationSettings settings = defaults.withSeed(seed != null ? seed : defaults.seed() + index);
      if (maxNewTokens != null) {
        settings = settings.withMaxNewTokens(maxNewTokens);
      }
      return model.request(model.encode(text), settings, label);
    }
  }

  private PromptFile() {}

  public static List<Line> read(Path file) {
    List<Line> lines = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    String[] texts = BoundedText.read(file, MAX_BYTES, "prompts file").split("\r?\n", -1);
    for (int i = 0; i < texts.length; i++) {
      if (!texts[i].isBlank()) {
        lines.add(parse(json, file, i + 1, texts[i]));
      }
    }
    if (lines.isEmpty()) {
      throw new UserError("prompts file " + file + " has no prompts");
    }
    return lines;
  }

  private static Line parse(ObjectMapper json, Path file, int number, String text) {
    String where = file.getFileName() + " line " + number + ": ";
    JsonNode node;
    try {
      node = json.readTree(text);
    } catch (JsonProcessingException e) {
      throw new UserError(where + "not valid JSON (" + e.getOriginalMessage() + ")");
    }
    IntNode defaultId = IntNode.valueOf(number);
    if (node.isTextual()) {
      return new Line(number, defaultId, node.asText(), null, null, null, null);
    }
    if (!node.isObject()) {
      throw new UserError(where + "expected a JSON object with \"prompt\", or a JSON string");
    }
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!KEYS.contains(name)) {
        throw new UserError(where + "unknown key \"" + name + "\" (known: prompt, id, chat, system, max_new_tokens, seed)");
      }
    }
    JsonNode prompt = node.get("prompt");
    if (prompt == null || !prompt.isTextual()) {
      throw new UserError(where + "\"prompt\" must be given as a string");
    }
    Boolean chat = optional(node, "chat", JsonNode::isBoolean, JsonNode::asBoolean, where, "true or false");
    String system = optional(node, "system", JsonNode::isTextual, JsonNode::asText, where, "a string");
    Integer maxNew = optional(node, "max_new_tokens", n -> n.canConvertToInt() && n.isIntegralNumber() && n.asInt() > 0,
        JsonNode::asInt, where, "a positive integer");
    Long seed = optional(node, "seed", n -> n.isIntegralNumber() && n.canConvertToLong(), JsonNode::asLong, where,
        "an integer");
    if (system != null && Boolean.FALSE.equals(chat)) {
      throw new UserError(where + "\"system\" needs \"chat\": true");
    }
    JsonNode id = node.has("id") ? node.get("id") : defaultId;
    return new Line(number, id, prompt.asText(), chat, system, maxNew, seed);
  }

  private static <T> T optional(JsonNode node, String key, Predicate<JsonNode> valid,
      Function<JsonNode, T> value, String where, String expected) {
    JsonNode v = node.get(key);
    if (v == null) {
      return null;
    }
    if (!valid.test(v)) {
      throw new UserError(where + "\"" + key + "\" must be " + expected + ", got " + v);
    }
    return value.apply(v);
  }
}
