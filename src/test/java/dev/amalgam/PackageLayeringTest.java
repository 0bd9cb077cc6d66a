package dev.amalgam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Packages depend one way, from the commands down to the bytes: a package may import only packages of a lower
 * layer. Read from the import lines of the main sources, so a new edge against the layering fails here, and a
 * new package must be given its layer.
 */
class PackageLayeringTest {
  private static final Path SOURCES = Path.of("src/main/java/dev/amalgam");
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.amalgam\\.((?:[a-z]\\w*\\.)*)[A-Z]",
      Pattern.MULTILINE);

  /** Each package's layer, lowest first; "" is dev.amalgam itself ({@link UserError}). */
  private static final Map<String, Integer> LAYERS = Map.ofEntries(
      Map.entry("", 0),
      Map.entry("tensor", 1),
      Map.entry("config", 2),           // schemas: mergekit YAML, config.json
      Map.entry("io", 3),               // safetensors and model folders
      Map.entry("tokenizer", 4),
      Map.entry("cuda", 4),             // the CUDA runtime: context, streams, buffers, NVRTC, graphs
      Map.entry("chat", 5),
      Map.entry("backend", 5),          // the Backend interface and what every backend shares
      Map.entry("backend.cpu", 6),
      Map.entry("backend.cuda", 6),
      Map.entry("model", 7),
      Map.entry("merge", 7),
      Map.entry("device", 8),           // opens a backend and merge engines on one device
      Map.entry("generate", 9),
      Map.entry("eval", 10),           // evaluations of a model: perplexity, exact match
      Map.entry("bench", 10),
      Map.entry("sweep", 11),           // many merges evaluated from one load
      Map.entry("batch", 12),
      Map.entry("serve", 12),           // the OpenAI-compatible server           // several merges and sweeps from one file, locally or on Slurm
      Map.entry("cli", 13));

  @Test
  void everyImportGoesDownTheLayers() throws IOException {
    List<String> against = new ArrayList<>();
    TreeSet<String> unplaced = new TreeSet<>();
    for (Path file : javaFiles()) {
      String from = packageOf(SOURCES.relativize(file.getParent()).toString());
      if (!LAYERS.containsKey(from)) {
        unplaced.add(from);
        continue;
      }
      Matcher m = IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String to = packageOf(m.group(1));
        if (!to.equals(from) && !(LAYERS.containsKey(to) && LAYERS.get(to) < LAYERS.get(from))) {
          against.add(from + " -> " + to + " (" + SOURCES.relativize(file) + ")");
        }
      }
    }
    assertEquals(new TreeSet<>(), unplaced, "packages without a layer in this test");
    assertTrue(against.isEmpty(), "imports against the layering:\n" + String.join("\n", against));
  }

  private static String packageOf(String path) {
    return path.replace('/', '.').replaceAll("\\.$", "");
  }

  private static List<Path> javaFiles() throws IOException {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    }
  }
}
