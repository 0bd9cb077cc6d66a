package dev.amalgam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.model.Golden;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible server on the tiny prose model, through plain HTTP: answers equal the generator's own,
 * streamed or not, alone or among concurrent requests; scoring a prompt equals the golden float32 logits'
 * log-softmax; bad requests get 400s naming the field, a full queue 429, a missing key 401.
 */
class OpenAiServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static CpuBackend backend;
  private static LanguageModel model;
  private static OpenAiServer server;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final List<String> PROMPTS = List.of("The smith kept", "3 + 4 =", "Once upon", "The river ran", "A",
      "The old man");
  /** Each prompt's greedy 12 tokens, generated before the server starts: only its loop may use the model after. */
  private static final Map<String, String> ALONE = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    backend = new CpuBackend();
    model = LanguageModel.open(backend, Golden.modelDir("a"));
    for (String prompt : PROMPTS) {
      ALONE.put(prompt, model.generate(model.encode(prompt), GenerationSettings.greedy(12), TokenListener.NONE)
          .text());
    }
    server = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 4, 256, 1, 64, null, "tiny-a"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    model.close();
    backend.close();
  }

  @Test
  void aCompletionIsWhatTheGeneratorGives() throws Exception {
    JsonNode answer = post("/v1/completions", "{\"prompt\": \"The smith kept\", \"max_tokens\": 12, "
        + "\"temperature\": 0}", 200);
    assertEquals(ALONE.get("The smith kept"), answer.get("choices").get(0).get("text").asText());
    assertEquals("length", answer.get("choices").get(0).get("finish_reason").asText());
    assertEquals(12, answer.get("usage").get("completion_tokens").asInt());
    assertEquals("text_completion", answer.get("object").asText());
  }

  @Test
  void concurrentRequestsEachGetWhatTheyGetAlone() throws Exception {
    List<String> prompts = PROMPTS;
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (String prompt : prompts) {
      sent.add(HTTP.sendAsync(request("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString(prompt)
          + ", \"max_tokens\": 12, \"temperature\": 0}"), HttpResponse.BodyHandlers.ofString()));
    }
    // The queue holds one waiting request: some may be told to retry, as a client would be.
    for (int i = 0; i < prompts.size(); i++) {
      HttpResponse<String> response = sent.get(i).get();
      while (response.statusCode() == 429) {
        assertEquals("1", response.headers().firstValue("Retry-After").orElse(null));
        Thread.sleep(100);
        response = HTTP.send(request("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString(prompts.get(i))
            + ", \"max_tokens\": 12, \"temperature\": 0}"), HttpResponse.BodyHandlers.ofString());
      }
      assertEquals(200, response.statusCode(), response.body());
      assertEquals(ALONE.get(prompts.get(i)), JSON.readTree(response.body()).get("choices").get(0).get("text").asText(),
          prompts.get(i));
    }
  }

  @Test
  void aStreamSendsTheSameTextInPiecesThenDone() throws Exception {
    HttpResponse<String> response = HTTP.send(request("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", "
        + "\"content\": \"Tell me about the forge.\"}], \"max_tokens\": 12, \"temperature\": 0, \"stream\": true}"),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
    StringBuilder streamed = new StringBuilder();
    List<String> events = response.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6))
        .toList();
    assertEquals("[DONE]", events.get(events.size() - 1));
    for (String event : events.subList(0, events.size() - 1)) {
      JsonNode delta = JSON.readTree(event).get("choices").get(0).get("delta");
      streamed.append(delta.path("content").asText(""));
    }
    JsonNode whole = post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me about "
        + "the forge.\"}], \"max_tokens\": 12, \"temperature\": 0}", 200);
    assertEquals(whole.get("choices").get(0).get("message").get("content").asText(), streamed.toString());
    assertEquals("length", JSON.readTree(events.get(events.size() - 2)).get("choices").get(0).get("finish_reason")
        .asText());
  }

  /** What harnesses ask to score a continuation: the prompt's token log-probabilities, as the golden logits give. */
  @Test
  void echoWithLogprobsScoresThePromptAsTheGoldenLogits() throws Exception {
    Golden golden = Golden.of("a");
    for (int p = 0; p < Golden.PROMPTS; p++) {
      int[] ids = golden.ints("p" + p + ".ids");
      JsonNode answer = post("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString(ids) + ", \"max_tokens\": 0, "
          + "\"echo\": true, \"logprobs\": 1}", 200);
      JsonNode logprobs = answer.get("choices").get(0).get("logprobs").get("token_logprobs");
      assertTrue(logprobs.get(0).isNull());
      float[] logits = golden.floats("p" + p + ".logits");
      int vocab = logits.length / ids.length;
      for (int t = 1; t < ids.length; t++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
          max = Math.max(max, logits[(t - 1) * vocab + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
          sum += Math.exp(logits[(t - 1) * vocab + v] - max);
        }
        double expected = logits[(t - 1) * vocab + ids[t]] - max - Math.log(sum);
        assertEquals(expected, logprobs.get(t).asDouble(), 1e-4, "prompt " + p + ", token " + t);
      }
    }
  }

  @Test
  void badRequestsAreRefusedNamingTheField() throws Exception {
    assertEquals("max_tokns", post("/v1/completions", "{\"prompt\": \"x\", \"max_tokns\": 3}", 400)
        .get("error").get("param").asText());
    assertEquals("temperature", post("/v1/completions", "{\"prompt\": \"x\", \"temperature\": \"hot\"}", 400)
        .get("error").get("param").asText());
    assertEquals("max_tokens", post("/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 65}", 400)
        .get("error").get("param").asText());
    assertEquals("prompt", post("/v1/completions", "{\"prompt\": " + JSON.writeValueAsString("word ".repeat(300))
        + "}", 400).get("error").get("param").asText());
    assertEquals("messages", post("/v1/chat/completions", "{\"messages\": []}", 400).get("error").get("param")
        .asText());
    assertTrue(post("/v1/completions", "{not json", 400).get("error").get("message").asText().contains("JSON"));
    post("/v1/completions", "{\"prompt\": \"" + "a".repeat(OpenAiServer.MAX_BODY_BYTES) + "\"}", 413);
    assertEquals(404, HTTP.send(HttpRequest.newBuilder(uri("/nowhere")).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode());
    // One request of three choices over a queue of one: the server says so rather than queueing without bound.
    JsonNode full = post("/v1/completions", "{\"prompt\": \"The smith kept\", \"max_tokens\": 40, \"n\": 3}", 429);
    assertEquals("rate_limit_error", full.get("error").get("type").asText());
    // Still healthy after all that.
    assertEquals("ok", JSON.readTree(HTTP.send(HttpRequest.newBuilder(uri("/health")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("status").asText());
  }

  @Test
  void modelsAndMetricsAnswer() throws Exception {
    JsonNode models = JSON.readTree(HTTP.send(HttpRequest.newBuilder(uri("/v1/models")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    assertEquals("tiny-a", models.get("data").get(0).get("id").asText());
    String metrics = HTTP.send(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
        .body();
    assertTrue(metrics.contains("# TYPE amalgam_requests_total counter") && metrics.contains("amalgam_queue_depth "),
        metrics);
  }

  /** A streaming client that hangs up: its generation stops long before its budget, and the next request runs. */
  @Test
  void aClientThatGoesAwayFreesItsSlot() throws Exception {
    try (OpenAiServer alone = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 1, 1024, 4, 1000,
        null, "tiny-a"))) {
      String body = "{\"prompt\": \"The smith kept\", \"max_tokens\": 1000, \"temperature\": 0, \"stream\": true}";
      try (Socket socket = new Socket("127.0.0.1", alone.port())) {
        socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.startsWith("data: ")) {
          // headers, then the first event
        }
      }
      URI uri = URI.create("http://127.0.0.1:" + alone.port() + "/v1/completions");
      HttpResponse<String> next = HTTP.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(
          "{\"prompt\": \"A\", \"max_tokens\": 3, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, next.statusCode(), next.body());
      // Unhindered, the first request would have run its 1000 tokens (this prompt samples no EOS before them).
      String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + alone.port() + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      long generated = metrics.lines().filter(l -> l.startsWith("amalgam_completion_tokens_total "))
          .mapToLong(l -> Long.parseLong(l.split(" ")[1])).sum();
      assertTrue(generated < 500, metrics);
    }
  }

  /** Stopping refuses new requests but lets the one in flight stream to its end. */
  @Test
  void stoppingLetsARunningRequestFinish() throws Exception {
    OpenAiServer stopping = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 1, 1024, 4, 1000, null,
        "tiny-a"));
    URI base = URI.create("http://127.0.0.1:" + stopping.port());
    CompletableFuture<HttpResponse<String>> running = HTTP.sendAsync(HttpRequest.newBuilder(base.resolve(
        "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"The smith kept\", "
        + "\"max_tokens\": 300, \"temperature\": 0, \"stream\": true}")).build(), HttpResponse.BodyHandlers.ofString());
    while (!HTTP.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString())
        .body().contains("amalgam_requests_total 1")) {
      Thread.sleep(10);
    }
    stopping.stop(60_000);
    HttpResponse<String> finished = running.get();
    assertEquals(200, finished.statusCode());
    assertTrue(finished.body().strip().endsWith("data: [DONE]"), finished.body());
    assertTrue(finished.body().contains("\"finish_reason\":\"length\""), "ran its whole budget");
  }

  @Test
  void aKeyIsRequiredWhereOneIsSet() throws Exception {
    try (OpenAiServer locked = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 1, 64, 4, 8,
        "sesame", "tiny-a"))) {
      URI models = URI.create("http://127.0.0.1:" + locked.port() + "/v1/models");
      assertEquals(401, HTTP.send(HttpRequest.newBuilder(models).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode());
      assertEquals(200, HTTP.send(HttpRequest.newBuilder(models).header("Authorization", "Bearer sesame").build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }

  private static JsonNode post(String path, String body, int status) throws Exception {
    HttpResponse<String> response = HTTP.send(request(path, body), HttpResponse.BodyHandlers.ofString());
    assertEquals(status, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private static HttpRequest request(String path, String body) {
    return HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }
}
