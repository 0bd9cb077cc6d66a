package dev.amalgam.io;

import dev.amalgam.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * An output folder that appears complete or not at all. Files are written into a hidden temporary sibling,
 * which {@link #commit()} fsyncs and renames into place. A failure, or Ctrl-C (through a shutdown hook),
 * removes the temporary folder, so an interrupted merge leaves nothing behind.
 */
public final class AtomicOutputDirectory implements AutoCloseable {
  private final Path target;
  private final Path staging;
  private final boolean overwrite;
  private final Thread cleanupOnExit;
  private boolean committed;

  private AtomicOutputDirectory(Path target, Path staging, boolean overwrite) {
    this.target = target;
    this.staging = staging;
    this.overwrite = overwrite;
    this.cleanupOnExit = new Thread(() -> deleteQuietly(staging), "amalgam-output-cleanup");
  }

  /** Checks that the target can be written, then creates the staging folder beside it. */
  public static AtomicOutputDirectory create(Path target, boolean overwrite) {
    Path absolute = target.toAbsolutePath().normalize();
    if (Files.exists(absolute) && !overwrite) {
      throw new UserError("output " + target + " already exists; pass --overwrite to replace it");
    }
    if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
      throw new UserError("output " + target + " exists and is not a directory");
    }
    Path parent = absolute.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new UserError("the folder that should hold " + target + " does not exist");
    }
    if (!Files.isWritable(parent)) {
      throw new UserError("cannot write into " + parent);
    }
    Path staging = parent.resolve("." + absolute.getFileName() + ".amalgam-" + UUID.randomUUID().toString().substring(0, 8));
    try {
      Files.createDirectory(staging);
    } catch (IOException e) {
      throw new UserError("cannot create " + staging + ": " + e.getMessage(), e);
    }
    AtomicOutputDirectory out = new AtomicOutputDirectory(absolute, staging, overwrite);
    Runtime.getRuntime().addShutdownHook(out.cleanupOnExit);
    return out;
  }

  /** Where files go until commit. */
  public Path staging() {
    return staging;
  }

  public Path target() {
    return target;
  }

  /** fsyncs every file and the folder, then moves the folder into place (replacing the old one if allowed). */
  public void commit() {
    try {
      try (Stream<Path> files = Files.list(staging)) {
        for (Path f : files.toList()) {
          fsync(f, false);
        }
      }
      fsync(staging, true);
      Path replaced = null;
      if (Files.exists(target)) {
        if (!overwrite) {
          throw new UserError("output " + target + " appeared while merging; not replacing it");
        }
        replaced = staging.resolveSibling(staging.getFileName() + ".old");
        Files.move(target, replaced, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      fsync(target.getParent(), true);
      committed = true;
      if (replaced != null) {
        deleteQuietly(replaced);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish writing " + target, e);
    } finally {
      removeHook();
    }
  }

  /** Discards the staging folder unless committed. */
  @Override
  public void close() {
    if (!committed) {
      deleteQuietly(staging);
      removeHook();
    }
  }

  private void removeHook() {
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it does the same cleanup.
    }
  }

  private static void fsync(Path path, boolean directory) throws IOException {
    try (FileChannel channel = directory
        ? FileChannel.open(path, StandardOpenOption.READ)
        : FileChannel.open(path, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  static void deleteQuietly(Path root) {
    if (!Files.exists(root)) {
      return;
    }
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
      // Best effort: this runs on failure paths and at shutdown, where nothing better can be done.
    }
  }
}
