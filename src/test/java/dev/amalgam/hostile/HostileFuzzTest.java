package dev.amalgam.hostile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fuzz suite: hostile cases of every kind ({@link HostileCases}), each run as its own process and judged by
 * {@link HostileRun}. CI runs a quick seeded subset; {@code scripts/fuzz.sh SEED COUNT} runs as many as asked
 * ({@code -Dfuzz.seed}, {@code -Dfuzz.cases}). The same seed and count give the same cases.
 */
class HostileFuzzTest {
  private static final long SEED = Long.getLong("fuzz.seed", 1);
  private static final int CASES = Integer.getInteger("fuzz.cases", 21);

  @TempDir Path dir;

  private record Outcome(int index, String kind, List<String> args, HostileRun.Verdict verdict) {}

  @Test
  void everyHostileCaseIsHandledCleanly() throws Exception {
    List<HostileCase> kinds = HostileCases.all();
    String classPath = System.getProperty("java.class.path");
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
    List<Future<Outcome>> futures = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      int index = i;
      HostileCase hostile = kinds.get(i % kinds.size());
      futures.add(pool.submit(() -> {
        Path work = Files.createDirectory(dir.resolve("case-" + index));
        List<String> args = hostile.prepare(work, new Random(SEED * 1_000_003L + index));
        return new Outcome(index, hostile.kind(), args, HostileRun.run(work, args, classPath));
      }));
    }
    List<Outcome> outcomes = new ArrayList<>();
    for (Future<Outcome> f : futures) {
      outcomes.add(f.get());
    }
    pool.shutdown();

    Map<String, int[]> byKind = new TreeMap<>();
    List<String> unclean = new ArrayList<>();
    for (Outcome o : outcomes) {
      int[] counts = byKind.computeIfAbsent(o.kind(), k -> new int[2]);
      counts[1]++;
      if (o.verdict().clean()) {
        counts[0]++;
      } else {
        unclean.add("case " + o.index() + " (" + o.kind() + "): amalgam " + String.join(" ", o.args()) + "\n    "
            + o.verdict().problem() + "\n    " + o.verdict().stderr().lines().limit(3).toList());
      }
    }
    byKind.forEach((kind, c) -> System.out.printf("  %-20s %d/%d clean%n", kind, c[0], c[1]));
    System.out.printf("%d/%d hostile cases handled cleanly (seed %d)%n", CASES - unclean.size(), CASES, SEED);
    assertTrue(unclean.isEmpty(), unclean.size() + " cases were not handled cleanly:\n" + String.join("\n", unclean));
  }
}
