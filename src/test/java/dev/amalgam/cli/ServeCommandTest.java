package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * amalgam serve as a process: it serves the README's config, and SIGTERM stops it with exit status 0; binding
 * beyond this machine without a key is refused.
 */
class ServeCommandTest {
  @Test
  void itServesTheDemoConfigAndStopsCleanlyOnSigterm() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process server = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "serve", "examples/linear.yml", "--port", "0", "--device", "cpu"))
        .redirectOutput(new File("/dev/null")).start();
    try {
      BufferedReader err = new BufferedReader(new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8));
      Matcher serving = null;
      for (String line = err.readLine(); line != null; line = err.readLine()) {
        Matcher m = Pattern.compile("^serving linear on (http://127\\.0\\.0\\.1:\\d+/v1) ").matcher(line);
        if (m.find()) {
          serving = m;
          break;
        }
      }
      assertTrue(serving != null, "the server said where it serves");
      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
          serving.group(1) + "/completions")).POST(HttpRequest.BodyPublishers.ofString(
          "{\"prompt\": \"The smith kept\", \"max_tokens\": 4}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, answer.statusCode(), answer.body());
      server.destroy();  // SIGTERM
      assertTrue(server.waitFor(30, TimeUnit.SECONDS), "stopped");
      assertEquals(0, server.exitValue());
    } finally {
      server.destroyForcibly();
    }
  }

  @Test
  void servingBeyondThisMachineWithoutAKeyIsRefused() {
    CliRun run = CliRun.of("serve", "examples/linear.yml", "--host", "0.0.0.0");
    assertTrue(run.isCleanUserError(), run.err());
    assertTrue(run.err().contains("--api-key"), run.err());
  }
}
