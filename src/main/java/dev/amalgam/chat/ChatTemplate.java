package dev.amalgam.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.tokenizer.TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model's chat template, rendered as transformers' {@code apply_chat_template(..., tokenize=False)} does.
 * The template comes from {@code chat_template.jinja} (the newer place) or else from the
 * {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of named templates of which
 * the one named {@code default} is used).
 */
public final class ChatTemplate {
  public static final String JINJA_FILE = "chat_template.jinja";
  /** Published chat templates are a few KB; the largest of 118 collected is under 40 KB. */
  static final long MAX_TEMPLATE_BYTES = 4L << 20;
  private static final List<String> SPECIAL_TOKEN_KEYS =
      List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

  private final Template template;
  private final String source;
  private final Map<String, Object> specialTokens;

  private ChatTemplate(String source, Map<String, Object> specialTokens) {
    this.source = source;
    this.template = Template.compile(source);
    this.specialTokens = specialTokens;
  }

  /** Loads the template of the model in {@code modelDir}; no template at all is a {@link UserError}. */
  public static ChatTemplate load(Path modelDir) {
    TokenizerConfig config = TokenizerConfig.load(modelDir);
    Map<String, Object> special = new LinkedHashMap<>();
    for (String key : SPECIAL_TOKEN_KEYS) {
      config.specialToken(key).ifPresent(v -> special.put(key, v));
    }
    List<String> additional = config.additionalSpecialTokens();
    if (!additional.isEmpty()) {
      special.put("additional_special_tokens", additional);
    }
    Path jinja = modelDir.resolve(JINJA_FILE);
    String source;
    if (Files.exists(jinja)) {
      source = BoundedText.read(jinja, MAX_TEMPLATE_BYTES, JINJA_FILE);
    } else {
      source = fromConfig(config.chatTemplateNode(), config.file(), modelDir);
    }
    return new ChatTemplate(source, special);
  }

  /** A template from its source text, with the given special tokens ({@code bos_token}, ...) visible to it. */
  public static ChatTemplate of(String source, Map<String, ?> specialTokens) {
    return new ChatTemplate(source, new LinkedHashMap<>(specialTokens));
  }

  private static String fromConfig(JsonNode node, Path configFile, Path modelDir) {
    if (node == null) {
      throw new UserError("no chat template in " + modelDir + ": neither " + JINJA_FILE
          + " nor a \"chat_template\" in " + TokenizerConfig.FILE_NAME + " (is this a base model?)");
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isArray()) {
      List<String> names = new ArrayList<>();
      for (JsonNode item : node) {
        String name = item.path("name").asText(null);
        names.add(String.valueOf(name));
        if ("default".equals(name) && item.path("template").isTextual()) {
          return item.get("template").textValue();
        }
      }
      throw new UserError(configFile + " has named chat templates " + names + " but none named \"default\"");
    }
    throw new UserError("\"chat_template\" in " + configFile + " must be a string or a list of {name, template}");
  }

  /**
   * Renders a conversation. Each message is a map such as {@code {"role": "user", "content": "hi"}};
   * {@code extraVars} (may be null) adds template variables such as {@code tools}, {@code documents} or
   * {@code enable_thinking}, and overrides the defaults. Maps should keep insertion order (LinkedHashMap,
   * or what Jackson produces): {@code tojson} and dict iteration follow it, as they follow a Python dict's.
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extraVars) {
    Objects.requireNonNull(messages, "messages");
    Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
    vars.put("messages", messages);
    // transformers always passes these two, as None when absent, so `tools is defined` is true.
    vars.put("tools", null);
    vars.put("documents", null);
    vars.put("add_generation_prompt", addGenerationPrompt);
    if (extraVars != null) {
      vars.putAll(extraVars);
    }
    return template.render(vars);
  }

  /** The template's source text. */
  public String source() {
    return source;
  }
}
