package dev.amalgam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.TokenListener;
import dev.amalgam.model.Golden;
import dev.amalgam.testing.Toolchain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official {@code openai} npm client (installed into a temporary folder) against the server: models,
 * completions, {@code n} and {@code stop}, chat completions, streaming, and a 400 it reads as an APIError.
 */
class OpenAiClientTest {
  /** The client's version, pinned so a new release cannot change this test (6.x: 7.x needs Node 22, CI has 20). */
  private static final String OPENAI_NPM = "openai@6.30.1";

  @TempDir Path dir;

  @Test
  void theOfficialClientTalksToTheServer() throws Exception {
    Toolchain.require(run(dir, List.of("npm", "--version"), 30) == 0, "node and npm");
    Files.copy(Path.of("src/test/node/openai-client.mjs"), dir.resolve("openai-client.mjs"));
    Files.writeString(dir.resolve("package.json"), "{\"type\": \"module\", \"private\": true}");
    Toolchain.require(run(dir, List.of("npm", "install", "--silent", "--no-audit", "--no-fund", OPENAI_NPM), 180) == 0,
        "the openai npm package (npm install " + OPENAI_NPM + ")");
    try (CpuBackend backend = new CpuBackend();
        LanguageModel model = LanguageModel.open(backend, Golden.modelDir("a"))) {
      String completion = model.generate(model.encode("The smith kept"), GenerationSettings.greedy(8),
          TokenListener.NONE).text();
      try (OpenAiServer server = OpenAiServer.start(model, new OpenAiServer.Options("127.0.0.1", 0, 4, 256, 16, 64,
          null, "tiny-a"))) {
        Path out = dir.resolve("out.json");
        int code = run(dir, List.of("node", "openai-client.mjs", "http://127.0.0.1:" + server.port() + "/v1"), 120,
            out);
        String seen = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, code, seen);
        JsonNode result = new ObjectMapper().readTree(seen.lines().reduce((a, b) -> b).orElse("{}"));
        assertEquals("tiny-a", result.get("model").asText());
        assertEquals(completion, result.get("completion").asText());
        assertEquals(400, result.get("error").asInt());
      }
    }
  }

  private static int run(Path dir, List<String> command, int seconds) throws Exception {
    return run(dir, command, seconds, dir.resolve("npm.log"));
  }

  private static int run(Path dir, List<String> command, int seconds, Path output) throws Exception {
    Process process;
    try {
      process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(output.toFile()).start();
    } catch (IOException e) {
      return -1;
    }
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }
}
