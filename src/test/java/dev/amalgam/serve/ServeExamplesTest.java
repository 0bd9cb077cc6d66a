package dev.amalgam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.model.Golden;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's curl lines, run as written against a server on the demo merge; and a bounded load: 64 concurrent
 * streaming requests of 32 tokens, each complete and equal to the same request served alone, the server healthy
 * after. The load's time and throughput are printed, not asserted.
 */
class ServeExamplesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theReadmesCurlLinesWork() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    String serving = readme.substring(readme.indexOf("## Serving"), readme.indexOf("## Chat templates"));
    List<String> commands = new ArrayList<>();
    Matcher block = Pattern.compile("```bash\\n(.*?)```", Pattern.DOTALL).matcher(serving);
    while (block.find()) {
      for (String command : block.group(1).replace("\\\n", " ").split("\n")) {
        if (command.startsWith("curl ")) {
          commands.add(command);
        }
      }
    }
    assertEquals(5, commands.size(), commands.toString());
    try (CpuBackend backend = new CpuBackend();
        LanguageModel model = LanguageModel.open(backend, Golden.modelDir("merged"));
        OpenAiServer server = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 4, 512, 16, 64,
            null, "linear"))) {
      for (String command : commands) {
        Process curl = new ProcessBuilder("bash", "-c",
            command.replace("localhost:8000", "127.0.0.1:" + server.port()) + " --fail-with-body")
            .redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, curl.waitFor(), command + "\n" + out);
        if (out.startsWith("data: ")) {
          assertTrue(out.strip().endsWith("data: [DONE]"), out);
        } else if (!command.contains("/metrics")) {
          assertTrue(JSON.readTree(out).isObject(), out);
        }
      }
    }
  }

  @Test
  void sixtyFourConcurrentStreamsEachGetWhatTheyGetAlone() throws Exception {
    int requests = 64;
    int tokens = 32;
    try (CpuBackend backend = new CpuBackend();
        LanguageModel model = LanguageModel.open(backend, Golden.modelDir("merged"))) {
      // Sampled, each with its own seed, so that every request differs; computed before the server owns the model.
      List<String> alone = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        alone.add(model.generate(model.encode(prompt(i)), new GenerationSettings(tokens,
            new SamplingParams(0.8f, 0, 1f, 0f, 1f), i, List.of(), 512), TokenListener.NONE).text());
      }
      try (OpenAiServer server = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 16, 512,
          requests, tokens, null, "linear"))) {
        HttpClient http = HttpClient.newHttpClient();
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
          String body = JSON.createObjectNode().put("prompt", prompt(i)).put("max_tokens", tokens)
              .put("temperature", 0.8).put("seed", i).put("stream", true).toString();
          sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
              + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString()));
        }
        long generated = 0;
        for (int i = 0; i < requests; i++) {
          HttpResponse<String> response = sent.get(i).get();
          assertEquals(200, response.statusCode(), response.body());
          StringBuilder text = new StringBuilder();
          List<String> events = response.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6))
              .toList();
          assertEquals("[DONE]", events.get(events.size() - 1), "request " + i);
          for (String event : events.subList(0, events.size() - 1)) {
            JsonNode choice = JSON.readTree(event).get("choices").get(0);
            text.append(choice.get("text").asText());
            generated += choice.get("finish_reason").isNull() ? 1 : 0;
          }
          assertEquals(alone.get(i), text.toString(), "request " + i);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "serve load: %d streams of %d tokens in %.2f s, %.0f text chunks/s%n",
            requests, tokens, seconds, generated / seconds);
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + server.port() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
      }
    }
  }

  private static String prompt(int i) {
    return List.of("The smith kept", "3 + 4 =", "Once upon a time", "The river ran").get(i % 4);
  }
}
