package dev.amalgam.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.generate.GenerationRequest;
import dev.amalgam.generate.GenerationResult;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * The server's overhead: {@code clients} concurrent streaming requests of {@code tokens} tokens each through
 * {@link OpenAiServer}, against the same requests given to the generator directly, in the same run on the same
 * model. Throughput is tokens per second over the whole batch; time to first token is per request (for the
 * server, from sending the request to the first text chunk; for the generator, from admission to the first token).
 */
public final class ServeBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMPT = "The smith kept";

  private ServeBenchmark() {}

  public static ObjectNode run(LanguageModel model, int clients, int tokens) throws Exception {
    int capacity = Math.min(model.contextLimit(), model.encode(PROMPT).length + tokens + 1);
    // Greedy, with no EOS or stop, so every request runs its whole budget on both sides.
    GenerationSettings settings = new GenerationSettings(tokens, SamplingParams.GREEDY, 0, List.of(), capacity);
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      requests.add(model.request(model.encode(PROMPT), settings, null));
    }
    model.generateAll(requests, clients, (r, i) -> {});  // warm-up
    long start = System.nanoTime();
    List<GenerationResult> direct = model.generateAll(requests, clients, (r, i) -> {}).results();
    double directSeconds = (System.nanoTime() - start) / 1e9;
    double[] directTtft = direct.stream().mapToDouble(GenerationResult::ttftMillis).toArray();
    long directTokens = direct.stream().mapToLong(r -> r.tokens().length).sum();

    ObjectNode report = JSON.createObjectNode().put("device", model.device()).put("clients", clients)
        .put("tokens_per_request", tokens);
    report.set("generator", side(directSeconds, directTokens, directTtft));
    try (OpenAiServer server = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, clients, capacity,
        clients, tokens, null, "bench"))) {
      HttpClient http = HttpClient.newHttpClient();
      String body = JSON.createObjectNode().put("prompt", PROMPT).put("max_tokens", tokens).put("temperature", 0)
          .put("stream", true).toString();
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
          + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(body)).build();
      http.send(request, HttpResponse.BodyHandlers.ofString());  // warm-up
      double[] ttft = new double[clients];
      start = System.nanoTime();
      List<CompletableFuture<?>> sent = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int client = i;
        long sentAt = System.nanoTime();
        sent.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).thenAccept(response -> {
          boolean[] first = {true};
          try (Stream<String> lines = response.body()) {
            lines.filter(l -> l.startsWith("data: {")).forEach(l -> {
              if (first[0]) {
                first[0] = false;
                ttft[client] = (System.nanoTime() - sentAt) / 1e6;
              }
            });
          }
        }));
      }
      for (CompletableFuture<?> done : sent) {
        done.get();
      }
      double serverSeconds = (System.nanoTime() - start) / 1e9;
      // The same greedy requests: the same tokens as the generator's.
      report.set("server", side(serverSeconds, directTokens, ttft));
      report.put("throughput_overhead", directSeconds > 0 ? serverSeconds / directSeconds - 1 : 0);
    }
    return report;
  }

  private static ObjectNode side(double seconds, long tokens, double[] ttftMillis) {
    double[] sorted = ttftMillis.clone();
    Arrays.sort(sorted);
    return JSON.createObjectNode().put("seconds", seconds).put("tokens_per_second", tokens / seconds)
        .put("ttft_p50_ms", percentile(sorted, 0.5)).put("ttft_p99_ms", percentile(sorted, 0.99));
  }

  private static double percentile(double[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }
}
