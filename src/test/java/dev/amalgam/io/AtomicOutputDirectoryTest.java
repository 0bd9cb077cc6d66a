package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output folder's promise: complete in place or the previous state untouched, whatever interrupts it. */
class AtomicOutputDirectoryTest {
  private static final List<String> NEW_FILES = List.of("config.json", "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json");

  @TempDir Path dir;

  /**
   * The shutdown hook's {@code abandon} racing the commit, as a signal during the commit does: whoever wins,
   * the output is the whole new folder or the whole old one, and nothing hidden stays beside it.
   */
  @Test
  void aSignalDuringTheCommitLeavesTheNewOutputOrTheOld() throws Exception {
    Path target = dir.resolve("out");
    long commitNanos = uncontestedCommitNanos(target);
    int sawNew = 0;
    int sawOld = 0;
    for (int trial = 0; trial < 100; trial++) {
      RecursiveDelete.quietly(target);
      Files.createDirectory(target);
      Files.writeString(target.resolve("model.safetensors"), "old");
      AtomicOutputDirectory out = AtomicOutputDirectory.create(target, true, line -> {});
      for (String name : NEW_FILES) {
        Files.writeString(out.staging().resolve(name), "new " + name);
      }
      // Anywhere from before the commit starts to after it ends.
      long delayNanos = ThreadLocalRandom.current().nextLong(0, 2 * commitNanos);
      Thread signal = new Thread(() -> {
        long until = System.nanoTime() + delayNanos;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
        out.abandon();
      });
      signal.start();
      try {
        out.commit();
      } catch (RuntimeException abandonedFirst) {
        // the hook won: the commit must not have happened
      }
      signal.join();
      out.close();
      Map<String, String> contents = contents(target);
      if (contents.equals(Map.of("model.safetensors", "old"))) {
        sawOld++;
      } else {
        Map<String, String> expected = new TreeMap<>();
        NEW_FILES.forEach(name -> expected.put(name, "new " + name));
        assertEquals(expected, contents, "trial " + trial + ": neither the new output nor the old");
        sawNew++;
      }
      assertEquals(List.of("out"), names(dir), "trial " + trial + ": something stayed beside the output");
    }
    assertTrue(sawNew > 0 && sawOld > 0, "the race always went one way: " + sawNew + " new, " + sawOld + " old");
  }

  private static long uncontestedCommitNanos(Path target) throws IOException {
    long start = System.nanoTime();
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target, true, line -> {})) {
      for (String name : NEW_FILES) {
        Files.writeString(out.staging().resolve(name), "new " + name);
      }
      out.commit();
    }
    return Math.max(100_000, System.nanoTime() - start);
  }

  @Test
  void leftoversOfKilledRunsAreRemovedAndAMovedAsideOutputIsRestored() throws Exception {
    Path target = dir.resolve("out");
    long dead = deadPid();
    Path staging = Files.createDirectories(dir.resolve(".out.amalgam-" + dead + "-0123abcd"));
    Files.writeString(staging.resolve("model.safetensors"), "half");
    Path aside = Files.createDirectories(dir.resolve(".out.amalgam-" + dead + "-89abcdef.old"));
    Files.writeString(aside.resolve("model.safetensors"), "previous");
    Path unrelated = Files.createDirectories(dir.resolve(".other.amalgam-" + dead + "-0123abcd"));
    List<String> notices = new ArrayList<>();

    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target, true, notices::add)) {
      assertEquals(Map.of("model.safetensors", "previous"), contents(target), "the swap's old output is back");
      assertFalse(Files.exists(staging), "the dead run's staging is gone");
      assertTrue(Files.exists(unrelated), "another output's leftovers are not this run's to judge");
      assertEquals(2, notices.size(), notices.toString());
      assertTrue(notices.get(0).startsWith("removed ") || notices.get(1).startsWith("removed "), notices.toString());
    }
  }

  @Test
  void aLiveRunsStagingIsLeftAlone() throws Exception {
    Path target = dir.resolve("out");
    Path live = Files.createDirectories(dir.resolve(".out.amalgam-" + ProcessHandle.current().pid() + "-0123abcd"));
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target, false, line -> {})) {
      assertTrue(Files.exists(live));
    }
  }

  @Test
  void aNameNearTheFileNameLimitStillStages() throws Exception {
    Path target = dir.resolve("m".repeat(250));
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target, false, line -> {})) {
      Files.writeString(out.staging().resolve("config.json"), "{}");
      out.commit();
    }
    assertEquals(Map.of("config.json", "{}"), contents(target));
  }

  @Test
  void onlyAModelFolderIsReplaced() throws Exception {
    Path target = Files.createDirectories(dir.resolve("work"));
    Files.writeString(target.resolve("config.json"), "{}");
    Files.writeString(target.resolve("notes.txt"), "mine");
    Files.createDirectory(target.resolve("data"));
    UserError error = assertThrows(UserError.class, () -> AtomicOutputDirectory.create(target, true, line -> {}));
    assertTrue(error.getMessage().contains("it holds data/, notes.txt"), error.getMessage());
    assertEquals(List.of("work"), names(dir), "nothing staged");
  }

  @Test
  void emptyAndLinkedOutputsAreRefused() throws Exception {
    assertTrue(assertThrows(UserError.class, () -> AtomicOutputDirectory.create(Path.of(""), true, line -> {}))
        .getMessage().contains("empty"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("nowhere"));
    assertTrue(assertThrows(UserError.class, () -> AtomicOutputDirectory.create(link, true, line -> {}))
        .getMessage().contains("symbolic link"));
  }

  /** The PID of a process that has exited. */
  static long deadPid() throws IOException, InterruptedException {
    Process process = new ProcessBuilder("true").start();
    process.waitFor();
    return process.pid();
  }

  private static Map<String, String> contents(Path folder) throws IOException {
    Map<String, String> files = new TreeMap<>();
    if (!Files.isDirectory(folder)) {
      return files;
    }
    try (Stream<Path> list = Files.list(folder)) {
      for (Path f : list.toList()) {
        files.put(f.getFileName().toString(), Files.readString(f));
      }
    }
    return files;
  }

  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> list = Files.list(folder)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
