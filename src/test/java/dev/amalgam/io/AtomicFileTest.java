package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file output is renamed into place only over a regular file or a new path, and never half-written. */
class AtomicFileTest {
  @TempDir Path dir;

  @Test
  void replacesARegularFileWhole() throws Exception {
    Path target = Files.writeString(dir.resolve("out.jsonl"), "old\n");
    try (AtomicFile file = AtomicFile.create(target)) {
      file.writer().write("new\n");
      file.commit();
    }
    assertEquals("new\n", Files.readString(target));
    assertEquals(1, count(dir), "no staging file stays");
  }

  /** A pipe made here stands for any node that is not a regular file: /dev/null, a socket, a terminal. */
  @Test
  void refusesANodeThatIsNotARegularFile() throws Exception {
    Path fifo = dir.resolve("pipe");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    UserError error = assertThrows(UserError.class, () -> AtomicFile.create(fifo));
    assertTrue(error.getMessage().contains("not a regular file"), error.getMessage());
    assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the pipe is untouched");
    assertEquals(1, count(dir));
  }

  @Test
  void refusesALinkInsteadOfReplacingIt() throws Exception {
    Path real = Files.writeString(dir.resolve("real"), "kept");
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    assertThrows(UserError.class, () -> AtomicFile.create(link));
    assertTrue(Files.isSymbolicLink(link));
    assertEquals("kept", Files.readString(real));
  }

  @Test
  void aSignalBeforeTheCommitLeavesThePreviousFile() throws Exception {
    Path target = Files.writeString(dir.resolve("out.jsonl"), "old\n");
    AtomicFile file = AtomicFile.create(target);
    file.writer().write("new\n");
    file.abandon();
    assertThrows(RuntimeException.class, file::commit);
    file.close();
    assertEquals("old\n", Files.readString(target));
    assertEquals(1, count(dir));
    assertFalse(Files.exists(dir.resolve("new")));
  }

  private static long count(Path folder) throws Exception {
    try (Stream<Path> list = Files.list(folder)) {
      return list.count();
    }
  }
}
