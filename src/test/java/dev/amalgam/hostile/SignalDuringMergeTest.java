package dev.amalgam.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM sent to a real {@code amalgam merge --overwrite} process while it writes, commits and cleans up: the
 * output folder is afterwards the previous merge or the new one, each whole, and nothing hidden stays beside it.
 * One shard per tensor makes the commit's fsyncs long enough to be hit.
 */
class SignalDuringMergeTest {
  private static final int TRIALS = 16;

  @TempDir Path dir;

  @Test
  void aSignalAnywhereLeavesTheOldOutputOrTheNewOneWhole() throws Exception {
    Path work = Files.createDirectory(dir.resolve("work"));
    Path config = TestModels.config(work, "models:\n  - model: " + TestModels.abs(Fixtures.A)
        + "\n    parameters: {weight: 0.3}\n  - model: " + TestModels.abs(Fixtures.B)
        + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    Path out = work.resolve("out");
    Process first = merge(config, out, "0.3");
    waitForStaging(first, work);
    long start = System.nanoTime();
    assertEquals(0, first.waitFor(), "the first merge");
    // Signals land anywhere from the staging folder's creation to a little past the end, the commit included.
    int spanMillis = (int) Math.max(50, (System.nanoTime() - start) / 1_000_000 * 13 / 10);
    Map<String, byte[]> previous = contents(out);
    String yaml = Files.readString(config);
    Random random = new Random(7);
    int sawNew = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
      // A weight of its own, so that every trial that commits changes the output.
      String weight = String.valueOf(0.31 + 0.01 * trial);
      Files.writeString(config, yaml.replace("weight: 0.3", "weight: " + weight));
      Process merge = merge(config, out, weight);
      waitForStaging(merge, work);
      Thread.sleep(random.nextInt(spanMillis));
      merge.destroy();  // SIGTERM
      assertTrue(merge.waitFor(60, TimeUnit.SECONDS), "trial " + trial + ": still running a minute after SIGTERM");
      Map<String, byte[]> now = contents(out);
      if (!sameFiles(now, previous)) {
        // Changed means committed: complete, whether the signal then stopped the process or came too late.
        assertWhole(now, "trial " + trial);
        previous = now;
        sawNew++;
      }
      try (Stream<Path> beside = Files.list(work)) {
        assertEquals(List.of(config, out), beside.sorted().toList(), "trial " + trial + ": leftovers beside out");
      }
    }
    System.out.printf("signals during merges: %d of %d trials let the new merge commit (signals spread over %d ms)%n",
        sawNew, TRIALS, spanMillis);
  }

  private Process merge(Path config, Path out, String label) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "dev.amalgam.cli.Main", "merge",
        config.toString(), out.toString(), "--overwrite", "--out-shard-size", "1", "--device", "cpu")
        .redirectErrorStream(true).redirectOutput(dir.resolve("merge-" + label + ".log").toFile()).start();
  }

  /** Waits until the merge has created its staging folder: from then on every moment is worth a signal. */
  private static void waitForStaging(Process merge, Path work) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && merge.isAlive()) {
      try (Stream<Path> beside = Files.list(work)) {
        if (beside.anyMatch(p -> p.getFileName().toString().startsWith(".out.amalgam-"))) {
          return;
        }
      }
      Thread.sleep(2);
    }
  }

  private static void assertWhole(Map<String, byte[]> files, String what) {
    String index = new String(files.getOrDefault("model.safetensors.index.json", new byte[0]));
    assertTrue(index.contains("weight_map"), what + ": no index");
    long shards = files.keySet().stream().filter(n -> n.endsWith(".safetensors")).count();
    assertEquals(51, shards, what + ": shards");
    for (String name : List.of("config.json", "README.md", "mergekit_config.yml", "tokenizer.json")) {
      assertTrue(files.containsKey(name), what + ": no " + name);
    }
  }

  private static boolean sameFiles(Map<String, byte[]> a, Map<String, byte[]> b) {
    return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> java.util.Arrays.equals(a.get(k), b.get(k)));
  }

  private static Map<String, byte[]> contents(Path folder) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(folder)) {
      for (Path f : list.toList()) {
        files.put(f.getFileName().toString(), Files.readAllBytes(f));
      }
    }
    return files;
  }
}
