package dev.amalgam.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.LanguageModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;

/**
 * An OpenAI-compatible HTTP server on one model (Jetty): {@code /v1/models}, {@code /v1/completions} (with echo and
 * logprobs for scoring a prompt, as evaluation harnesses do), {@code /v1/chat/completions} through the model's
 * chat template, server-sent events for {@code stream}, {@code /health} and Prometheus {@code /metrics}. Requests
 * share decode steps through {@link ServeEngine}; a full queue answers 429, a bad request 400 naming the field, a
 * missing key 401, and a client that goes away cancels its generation.
 */
public final class OpenAiServer implements AutoCloseable {
  /** The largest request body read. */
  static final int MAX_BODY_BYTES = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param slots sequences decoded together
   * @param capacity positions a sequence may hold, prompt included
   * @param maxQueue requests waiting for a slot before 429
   * @param maxTokensCap the most tokens one choice may ask for
   * @param apiKey required as {@code Authorization: Bearer KEY}, or null for none
   */
  public record Options(String host, int port, int slots, int capacity, int maxQueue, int maxTokensCap,
      String apiKey, String modelName) {}

  private final Options options;
  private final ServeEngine engine;
  private final Server server;
  private final long created = System.currentTimeMillis() / 1000;

  private OpenAiServer(Options options, ServeEngine engine, Server server) {
    this.options = options;
    this.engine = engine;
    this.server = server;
  }

  /** Starts serving {@code model}; the server owns neither the model nor its device. */
  public static OpenAiServer start(LanguageModel model, Options options) throws Exception {
    ServeEngine engine = new ServeEngine(model, options.slots(), options.capacity(), options.maxQueue());
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(options.host());
    connector.setPort(options.port());
    server.addConnector(connector);
    OpenAiServer serving = new OpenAiServer(options, engine, server);
    // Graceful: on stop, requests in flight may finish within the stop timeout while new ones are refused.
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        serving.handle(request, response, callback);
        return true;
      }
    });
    server.setHandler(graceful);
    try {
      server.start();
    } catch (Exception e) {
      engine.close();
      throw e;
    }
    return serving;
  }

  /** The port the server listens on (the one chosen where the options asked for 0). */
  public int port() {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  private void handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    String method = request.getMethod();
    try {
      if (options.apiKey() != null && !path.equals("/health")
          && !("Bearer " + options.apiKey()).equals(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
        throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
            "a valid API key is required: Authorization: Bearer KEY");
      }
      switch (method + " " + path) {
        case "GET /health" -> json(response, callback, 200, JSON.createObjectNode().put("status", "ok"));
        case "GET /metrics" -> text(response, callback, metrics());
        case "GET /v1/models" -> json(response, callback, 200, models());
        case "POST /v1/completions" -> complete(request, response, callback, false);
        case "POST /v1/chat/completions" -> complete(request, response, callback, true);
        default -> throw new ApiError(path.startsWith("/v1/") || path.equals("/health") || path.equals("/metrics")
            ? 405 : 404, "invalid_request_error", null, null, method + " " + path + " is not served here");
      }
    } catch (ApiError e) {
      error(response, callback, e);
    } catch (ServeEngine.QueueFull e) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
      error(response, callback, new ApiError(429, "rate_limit_error", null, null,
          "the server's queue is full; retry shortly"));
    } catch (RuntimeException | IOException e) {
      error(response, callback, new ApiError(500, "server_error", null, null, String.valueOf(e.getMessage())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error(response, callback, new ApiError(503, "server_error", null, null, "the server is stopping"));
    }
  }

  private void complete(Request request, Response response, Callback callback, boolean chat)
      throws ApiError, ServeEngine.QueueFull, IOException, InterruptedException {
    JsonNode body = body(request);
    LanguageModel model = engine.model();
    CompletionJob job = CompletionJob.read(body, chat, model, options.capacity(), options.maxTokensCap());
    String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    if (job.scoring()) {
      json(response, callback, 200, scored(job, id, model));
      return;
    }
    List<ServeEngine.Pending> pending = new ArrayList<>();
    try {
      for (int i = 0; i < job.settings().size(); i++) {
        pending.add(engine.submit(job.prompts().get(i / job.n()), job.settings().get(i)));
      }
    } catch (ServeEngine.QueueFull e) {
      pending.forEach(ServeEngine.Pending::cancel);
      throw e;
    }
    // A client that goes away frees its slots at the next token.
    request.addFailureListener(failure -> pending.forEach(ServeEngine.Pending::cancel));
    if (job.stream()) {
      stream(response, callback, job, id, pending);
    } else {
      json(response, callback, 200, collected(job, id, pending));
    }
  }

  /** The whole answer once every choice has finished. */
  private ObjectNode collected(CompletionJob job, String id, List<ServeEngine.Pending> pending)
      throws InterruptedException, ApiError {
    ObjectNode root = envelope(job, id, false);
    ArrayNode choices = root.putArray("choices");
    long completion = 0;
    for (int i = 0; i < pending.size(); i++) {
      StringBuilder text = new StringBuilder();
      GenerationResult result = drain(pending.get(i), text::append);
      completion += result.tokens().length;
      ObjectNode choice = choices.addObject().put("index", i);
      if (job.chat()) {
        choice.putObject("message").put("role", "assistant").put("content", text.toString());
      } else {
        String prompt = job.echo() ? engine.model().decode(job.prompts().get(i / job.n())) : "";
        choice.put("text", prompt + text).putNull("logprobs");
      }
      choice.put("finish_reason", finishReason(result));
    }
    usage(root, job, completion);
    return root;
  }

  /** Server-sent events: a chunk per piece of text as it comes, a last chunk per choice, then {@code [DONE]}. */
  private void stream(Response response, Callback callback, CompletionJob job, String id,
      List<ServeEngine.Pending> pending) throws InterruptedException {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
    long completion = 0;
    try {
      for (int i = 0; i < pending.size(); i++) {
        int index = i;
        if (job.chat()) {
          send(response, chunk(job, id, index, JSON.createObjectNode().put("role", "assistant").put("content", ""),
              null));
        }
        GenerationResult result = drain(pending.get(i), piece -> send(response, chunk(job, id, index,
            job.chat() ? JSON.createObjectNode().put("content", piece) : null, piece)));
        completion += result.tokens().length;
        ObjectNode last = chunk(job, id, index, job.chat() ? JSON.createObjectNode() : null, job.chat() ? null : "");
        ((ObjectNode) last.get("choices").get(0)).put("finish_reason", finishReason(result));
        send(response, last);
      }
      if (job.includeUsage()) {
        ObjectNode usage = envelope(job, id, true);
        usage.putArray("choices");
        usage(usage, job, completion);
        send(response, usage);
      }
      write(response, true, "data: [DONE]\n\n");
      callback.succeeded();
    } catch (IOException | ApiError | UncheckedIOException e) {
      // The client went away (or the loop failed mid-stream): nothing more can be said on this response.
      pending.forEach(ServeEngine.Pending::cancel);
      callback.failed(e);
    }
  }

  /** Hands each piece of {@code pending}'s text to {@code onText}; returns its result. */
  private static GenerationResult drain(ServeEngine.Pending pending, TextSink onText)
      throws InterruptedException, ApiError {
    while (true) {
      Object event = pending.next();
      if (event instanceof String text) {
        onText.accept(text);
      } else if (event instanceof GenerationResult result) {
        return result;
      } else {
        throw new ApiError(500, "server_error", null, null, "generation failed: " + ((Throwable) event).getMessage());
      }
    }
  }

  @FunctionalInterface
  private interface TextSink {
    void accept(String text);
  }

  /** A prompt scored, not continued: echo with max_tokens 0, the token log-probabilities of the prompt. */
  private ObjectNode scored(CompletionJob job, String id, LanguageModel model) throws InterruptedException {
    ObjectNode root = envelope(job, id, false);
    ArrayNode choices = root.putArray("choices");
    for (int p = 0; p < job.prompts().size(); p++) {
      int[] prompt = job.prompts().get(p);
      LanguageModel.Scores scores = engine.onLoop(() -> model.score(prompt));
      ObjectNode logprobs = JSON.createObjectNode();
      ArrayNode tokens = logprobs.putArray("tokens");
      ArrayNode tokenLogprobs = logprobs.putArray("token_logprobs");
      ArrayNode top = logprobs.putArray("top_logprobs");
      ArrayNode offsets = logprobs.putArray("text_offset");
      int offset = 0;
      for (int t = 0; t < prompt.length; t++) {
        String text = model.tokenText(prompt[t]);
        tokens.add(text);
        offsets.add(offset);
        offset += text.length();
        if (t == 0) {
          tokenLogprobs.addNull();
          top.addNull();
        } else {
          tokenLogprobs.add(-scores.nll()[t - 1]);
          top.addObject().put(model.tokenText(scores.top()[t - 1]), -scores.topNll()[t - 1]);
        }
      }
      for (int c = 0; c < job.n(); c++) {
        ObjectNode choice = choices.addObject().put("index", p * job.n() + c).put("text", model.decode(prompt));
        choice.set("logprobs", logprobs);
        choice.put("finish_reason", "length");
      }
    }
    usage(root, job, 0);
    return root;
  }

  private ObjectNode chunk(CompletionJob job, String id, int index, ObjectNode delta, String text) {
    ObjectNode root = envelope(job, id, true);
    ObjectNode choice = root.putArray("choices").addObject().put("index", index);
    if (job.chat()) {
      choice.set("delta", delta);
    } else {
      choice.put("text", text).putNull("logprobs");
    }
    choice.putNull("finish_reason");
    return root;
  }

  private ObjectNode envelope(CompletionJob job, String id, boolean chunk) {
    return JSON.createObjectNode().put("id", id)
        .put("object", job.chat() ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion")
        .put("created", System.currentTimeMillis() / 1000).put("model", options.modelName());
  }

  private static void usage(ObjectNode root, CompletionJob job, long completion) {
    long prompt = 0;
    for (int[] p : job.prompts()) {
      prompt += (long) p.length * job.n();
    }
    root.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion)
        .put("total_tokens", prompt + completion);
  }

  private static String finishReason(GenerationResult result) {
    return switch (result.finishReason()) {
      case EOS, STOP -> "stop";
      case MAX_TOKENS, CONTEXT -> "length";
      case CANCELLED -> "cancelled";
    };
  }

  private ObjectNode models() {
    ObjectNode root = JSON.createObjectNode().put("object", "list");
    root.putArray("data").addObject().put("id", options.modelName()).put("object", "model").put("created", created)
        .put("owned_by", "amalgam");
    return root;
  }

  private String metrics() {
    long finished = engine.finished.get();
    return String.join("\n",
        "# HELP amalgam_requests_total Generations accepted.",
        "# TYPE amalgam_requests_total counter",
        "amalgam_requests_total " + engine.requests.get(),
        "# HELP amalgam_prompt_tokens_total Prompt tokens of the generations accepted.",
        "# TYPE amalgam_prompt_tokens_total counter",
        "amalgam_prompt_tokens_total " + engine.promptTokens.get(),
        "# HELP amalgam_completion_tokens_total Tokens generated.",
        "# TYPE amalgam_completion_tokens_total counter",
        "amalgam_completion_tokens_total " + engine.completionTokens.get(),
        "# HELP amalgam_time_to_first_token_seconds From admission to the first token, of finished generations.",
        "# TYPE amalgam_time_to_first_token_seconds summary",
        "amalgam_time_to_first_token_seconds_sum " + String.format(Locale.ROOT, "%.3f",
            engine.firstTokenMillis.get() / 1000.0),
        "amalgam_time_to_first_token_seconds_count " + finished,
        "# HELP amalgam_queue_depth Generations waiting for a slot.",
        "# TYPE amalgam_queue_depth gauge",
        "amalgam_queue_depth " + engine.queueDepth(),
        "");
  }

  private static JsonNode body(Request request) throws ApiError, IOException {
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (bytes.length > MAX_BODY_BYTES) {
      throw new ApiError(413, "invalid_request_error", null, null, "the request body is over "
          + (MAX_BODY_BYTES >> 20) + " MiB");
    }
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw ApiError.invalid(null, "the request body is not valid JSON: "
          + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  private static void error(Response response, Callback callback, ApiError e) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode error = root.putObject("error").put("message", e.getMessage()).put("type", e.type);
    error.put("param", e.param).put("code", e.code);
    json(response, callback, e.status, root);
  }

  private static void json(Response response, Callback callback, int status, JsonNode body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    Content.Sink.write(response, true, body.toString(), callback);
  }

  private static void text(Response response, Callback callback, String body) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4");
    Content.Sink.write(response, true, body, callback);
  }

  private static void send(Response response, ObjectNode chunk) {
    try {
      write(response, false, "data: " + chunk + "\n\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One blocking write, flushed: the next piece of a stream reaches the client now. */
  private static void write(Response response, boolean last, String text) throws IOException {
    try (Blocker.Callback written = Blocker.callback()) {
      response.write(last, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), written);
      written.block();
    }
  }

  /**
   * Stops accepting, lets running requests finish within {@code graceMillis} (then cuts them off), and stops the
   * generation loop.
   */
  public void stop(long graceMillis) throws Exception {
    server.setStopTimeout(graceMillis);
    try {
      server.stop();
    } finally {
      engine.close();
    }
  }

  @Override
  public void close() throws Exception {
    stop(0);
  }

  /** Waits until the server has stopped. */
  public void join() throws InterruptedException {
    server.join();
  }

}
