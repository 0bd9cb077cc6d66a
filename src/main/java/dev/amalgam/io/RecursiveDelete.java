package dev.amalgam.io;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Removes a folder and everything in it, on failure paths and at shutdown, where errors cannot be acted on. */
public final class RecursiveDelete {
  /**
   * Passes over the tree before giving up. At shutdown another thread may still create files in the folder
   * until the folder itself is gone, which makes a pass fail on a folder that is no longer empty.
   */
  private static final int PASSES = 50;

  private RecursiveDelete() {}

  public static void quietly(Path root) {
    for (int pass = 0; pass < PASSES && Files.exists(root, LinkOption.NOFOLLOW_LINKS); pass++) {
      deleteTree(root);
    }
  }

  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException ignored) {
      // Best effort by design: the caller is already failing or exiting.
    }
  }
}
