package dev.amalgam.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.cli.CliRun;
import dev.amalgam.testing.Fixtures;
import dev.amalgam.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge into a filesystem too small for it: a 1 MiB tmpfs mounted in the test's own folder (the 2 MB merge does
 * not fit). It fails as a runtime failure naming the cause and the folder asked for, and leaves nothing there.
 * Mounting needs root; elsewhere the test is skipped, saying so.
 */
class DiskFullTest {
  @TempDir Path dir;
  private Path small;

  @BeforeEach
  void mount() throws Exception {
    small = Files.createDirectory(dir.resolve("small"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
        .redirectErrorStream(true).start();
    String log = new String(mount.getInputStream().readAllBytes());
    assumeTrue(mount.waitFor() == 0, "cannot mount a small tmpfs here (" + log.trim() + "); disk-full test skipped");
  }

  @AfterEach
  void unmount() throws Exception {
    new ProcessBuilder("umount", small.toString()).start().waitFor();
  }

  @Test
  void aFullDiskIsNamedAndLeavesNothing() throws Exception {
    Path config = TestModels.config(dir, "models:\n  - model: " + TestModels.abs(Fixtures.A)
        + "\n    parameters: {weight: 0.3}\n  - model: " + TestModels.abs(Fixtures.B)
        + "\n    parameters: {weight: 0.7}\nmerge_method: linear\n");
    Path out = small.resolve("out");
    CliRun run = CliRun.of("merge", config.toString(), out.toString(), "--device", "cpu");
    assertEquals(1, run.exitCode(), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
    assertTrue(run.err().contains("cannot write the merge into " + out) && run.err().contains("No space left"),
        run.err());
    try (Stream<Path> left = Files.list(small)) {
      assertEquals(0, left.count(), "the full filesystem holds leftovers");
    }
  }
}
