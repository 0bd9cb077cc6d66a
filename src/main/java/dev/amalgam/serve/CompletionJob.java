package dev.amalgam.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.amalgam.UserError;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code /v1/completions} or {@code /v1/chat/completions} request, read and checked: its prompts as token ids,
 * how many choices each, the generation settings of each choice (none when it scores), and what the answer carries.
 * Every field the OpenAI API defines for these endpoints and amalgam does not honour is refused by name, as is a
 * wrong type.
 */
record CompletionJob(boolean chat, List<int[]> prompts, int n, List<GenerationSettings> settings, boolean stream,
    boolean echo, Integer logprobs, boolean includeUsage) {
  private static final Set<String> COMPLETION_FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p",
      "stop", "seed", "n", "stream", "stream_options", "logprobs", "echo", "user");
  private static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
      "temperature", "top_p", "stop", "seed", "n", "stream", "stream_options", "user");
  private static final int MAX_CHOICES = 16;
  private static final int MAX_STOPS = 4;

  /**
   * @param capacity positions a sequence may hold (prompt and completion)
   * @param maxTokensCap the most tokens one choice may ask for
   */
  static CompletionJob read(JsonNode body, boolean chat, LanguageModel model, int capacity, int maxTokensCap)
      throws ApiError {
    if (body == null || !body.isObject()) {
      throw ApiError.invalid(null, "the request body must be a JSON object");
    }
    Set<String> known = chat ? CHAT_FIELDS : COMPLETION_FIELDS;
    for (var it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!known.contains(field)) {
        throw ApiError.invalid(field, "unknown or unsupported field `" + field + "`");
      }
    }
    List<int[]> prompts = chat ? List.of(chatPrompt(body.get("messages"), model)) : prompts(body.get("prompt"), model);
    int n = integer(body, "n", 1, 1, MAX_CHOICES);
    boolean stream = bool(body, "stream", false);
    boolean echo = !chat && bool(body, "echo", false);
    Integer logprobs = chat || body.path("logprobs").isNull() || !body.has("logprobs") ? null
        : integer(body, "logprobs", 0, 0, 5);
    String tokensField = chat && body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
    int room = capacity - longest;
    if (room < 1) {
      throw ApiError.invalid(chat ? "messages" : "prompt", "the prompt is " + longest + " tokens, which leaves no room "
          + "in the context of " + capacity + " tokens");
    }
    int maxTokens = integer(body, tokensField, chat ? Math.min(room, maxTokensCap) : Math.min(16, room),
        echo ? 0 : 1, Integer.MAX_VALUE);
    if (maxTokens > maxTokensCap) {
      throw ApiError.invalid(tokensField, tokensField + " " + maxTokens + " is over this server's cap of "
          + maxTokensCap);
    }
    if (maxTokens > room) {
      throw ApiError.invalid(tokensField, tokensField + " " + maxTokens + " and the prompt's " + longest
          + " tokens do not fit the context of " + capacity + " tokens");
    }
    if (logprobs != null && maxTokens > 0) {
      throw ApiError.invalid("logprobs", "logprobs are given for the prompt only: use echo with max_tokens 0");
    }
    if (maxTokens == 0 && (logprobs == null || !echo)) {
      throw ApiError.invalid(tokensField, "max_tokens 0 scores the prompt: it needs echo and logprobs");
    }
    double temperature = number(body, "temperature", 1, 0, 2);
    double topP = number(body, "top_p", 1, 0, 1);
    if (topP == 0) {
      throw ApiError.invalid("top_p", "`top_p` must be above 0");
    }
    List<String> stops = stops(body.get("stop"));
    long seed = body.has("seed") && !body.get("seed").isNull() ? longValue(body, "seed") : System.nanoTime();
    List<GenerationSettings> settings = new ArrayList<>();
    // Scoring (max_tokens 0) generates nothing: no settings.
    for (int i = 0; maxTokens > 0 && i < prompts.size() * n; i++) {
      try {
        SamplingParams sampling = new SamplingParams(
            temperature < SamplingParams.MIN_TEMPERATURE ? 0f : (float) temperature, 0, (float) topP, 0f, 1f);
        settings.add(new GenerationSettings(maxTokens, sampling, seed + i, stops, capacity));
      } catch (UserError e) {
        throw ApiError.invalid(null, e.getMessage());
      }
    }
    return new CompletionJob(chat, prompts, n, settings, stream, echo, logprobs,
        body.path("stream_options").path("include_usage").asBoolean(false));
  }

  /** Whether the request scores its prompts (echo, logprobs, max_tokens 0) rather than continuing them. */
  boolean scoring() {
    return settings.isEmpty();
  }

  private static int[] chatPrompt(JsonNode messages, LanguageModel model) throws ApiError {
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw ApiError.invalid("messages", "`messages` must be a non-empty list of {role, content}");
    }
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
        throw ApiError.invalid("messages[" + i + "]", "each message needs a string `role` and a string `content`");
      }
      Map<String, Object> message = new LinkedHashMap<>();
      message.put("role", m.get("role").asText());
      message.put("content", m.get("content").asText());
      list.add(message);
    }
    try {
      return encode(model, model.chatPrompt(list), "messages");
    } catch (UserError e) {
      throw ApiError.invalid("messages", "the model's chat template refused the messages: " + e.getMessage());
    }
  }

  /** A string, a list of strings, a list of token ids, or a list of such lists. */
  private static List<int[]> prompts(JsonNode prompt, LanguageModel model) throws ApiError {
    if (prompt == null || prompt.isNull()) {
      throw ApiError.invalid("prompt", "`prompt` is required");
    }
    if (prompt.isTextual()) {
      return List.of(encode(model, prompt.asText(), "prompt"));
    }
    if (!prompt.isArray() || prompt.isEmpty()) {
      throw ApiError.invalid("prompt", "`prompt` must be a string, a list of strings, or token ids");
    }
    if (prompt.get(0).isInt()) {
      return List.of(ids(prompt, model));
    }
    List<int[]> prompts = new ArrayList<>();
    for (JsonNode p : prompt) {
      if (p.isTextual()) {
        prompts.add(encode(model, p.asText(), "prompt"));
      } else if (p.isArray() && !p.isEmpty()) {
        prompts.add(ids(p, model));
      } else {
        throw ApiError.invalid("prompt", "each prompt of the list must be a string or a list of token ids");
      }
    }
    if (prompts.size() > MAX_CHOICES) {
      throw ApiError.invalid("prompt", "at most " + MAX_CHOICES + " prompts in one request");
    }
    return prompts;
  }

  private static int[] encode(LanguageModel model, String text, String param) throws ApiError {
    int[] ids;
    try {
      ids = model.encode(text);
    } catch (UserError e) {
      throw ApiError.invalid(param, e.getMessage());
    }
    if (ids.length == 0) {
      throw ApiError.invalid(param, "the prompt encodes to no tokens");
    }
    return ids;
  }

  private static int[] ids(JsonNode list, LanguageModel model) throws ApiError {
    int[] ids = new int[list.size()];
    int vocab = model.vocabSize();
    for (int i = 0; i < ids.length; i++) {
      if (!list.get(i).isInt() || list.get(i).asInt() < 0 || list.get(i).asInt() >= vocab) {
        throw ApiError.invalid("prompt", "token ids must be integers from 0 to " + (vocab - 1));
      }
      ids[i] = list.get(i).asInt();
    }
    return ids;
  }

  private static List<String> stops(JsonNode stop) throws ApiError {
    if (stop == null || stop.isNull()) {
      return List.of();
    }
    if (stop.isTextual()) {
      stop = JsonNodeFactory.instance.arrayNode().add(stop.asText());
    }
    if (!stop.isArray() || stop.size() > MAX_STOPS) {
      throw ApiError.invalid("stop", "`stop` must be a string or a list of up to " + MAX_STOPS + " strings");
    }
    List<String> stops = new ArrayList<>();
    for (JsonNode s : stop) {
      if (!s.isTextual() || s.asText().isEmpty()) {
        throw ApiError.invalid("stop", "each stop sequence must be a non-empty string");
      }
      stops.add(s.asText());
    }
    return stops;
  }

  private static int integer(JsonNode body, String field, int fallback, int min, int max) throws ApiError {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
      throw ApiError.invalid(field, "`" + field + "` must be an integer from " + min
          + (max == Integer.MAX_VALUE ? " up" : " to " + max));
    }
    return v.asInt();
  }

  private static long longValue(JsonNode body, String field) throws ApiError {
    JsonNode v = body.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiError.invalid(field, "`" + field + "` must be an integer");
    }
    return v.asLong();
  }

  private static double number(JsonNode body, String field, double fallback, double min, double max)
      throws ApiError {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
      throw ApiError.invalid(field, "`" + field + "` must be a number from " + min + " to " + max);
    }
    return v.asDouble();
  }

  private static boolean bool(JsonNode body, String field, boolean fallback) throws ApiError {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw ApiError.invalid(field, "`" + field + "` must be true or false");
    }
    return v.asBoolean();
  }
}
