package dev.amalgam.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.BoundedJson;
import dev.amalgam.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The parts of {@code tokenizer_config.json} that matter here: the special tokens (each written either as a
 * plain string or as an AddedToken object {@code {"content": ...}}) and the chat template. A missing file is
 * allowed (many models ship only tokenizer.json); a corrupt one is the user's problem and says so.
 */
public final class TokenizerConfig {
  public static final String FILE_NAME = "tokenizer_config.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode root;
  private final Path file;

  private TokenizerConfig(JsonNode root, Path file) {
    this.root = root;
    this.file = file;
  }

  /** Reads {@code modelDir/tokenizer_config.json}; an absent file gives an empty config. */
  public static TokenizerConfig load(Path modelDir) {
    Path file = modelDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return new TokenizerConfig(JSON.createObjectNode(), file);
    }
    // Chat templates and added tokens make these files large, but never near this.
    JsonNode node = BoundedJson.read(file, 64L << 20, FILE_NAME);
    if (!node.isObject()) {
      throw new UserError(file + " is not a JSON object");
    }
    return new TokenizerConfig(node, file);
  }

  /** The file this config was read from (it may not exist). */
  public Path file() {
    return file;
  }

  /**
   * A special token such as {@code bos_token}: a string, or the {@code content} of an AddedToken object;
   * empty when absent or null.
   */
  public Optional<String> specialToken(String key) {
    return tokenText(root.get(key));
  }

  /** {@code additional_special_tokens}, as strings (AddedToken objects reduced to their content). */
  public List<String> additionalSpecialTokens() {
    JsonNode list = root.get("additional_special_tokens");
    if (list == null || !list.isArray()) {
      return Collections.emptyList();
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : list) {
      tokenText(item).ifPresent(out::add);
    }
    return out;
  }

  /** A boolean setting, or {@code fallback} when absent or not a boolean. */
  public boolean flag(String key, boolean fallback) {
    JsonNode node = root.get(key);
    return node != null && node.isBoolean() ? node.booleanValue() : fallback;
  }

  /** The raw {@code chat_template} node (string, or list of {name, template}); null when absent. */
  public JsonNode chatTemplateNode() {
    JsonNode node = root.get("chat_template");
    return node == null || node.isNull() ? null : node;
  }

  private static Optional<String> tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (node.isTextual()) {
      return Optional.of(node.textValue());
    }
    if (node.isObject() && node.path("content").isTextual()) {
      return Optional.of(node.get("content").textValue());
    }
    return Optional.empty();
  }

  static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
