package dev.amalgam.io;

import dev.amalgam.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * An output folder that appears complete or not at all. Files are written into a hidden staging sibling
 * ({@link StagingName}), which {@link #commit()} fsyncs and renames into place.
 *
 * <p>Against signals: a shutdown hook {@linkplain #abandon abandons} the staging folder, and the hook and the
 * commit's renames exclude each other, so Ctrl-C or SIGTERM at any moment leaves either the new output complete
 * in place or the previous state untouched. Replacing an existing folder takes two renames (the old one aside,
 * the new one in); a reader looking in between sees no folder, and a SIGKILL in between leaves the old one
 * aside, which the next run into the same place puts back.
 */
public final class AtomicOutputDirectory implements AutoCloseable {
  private enum State { OPEN, COMMITTED, ABANDONED }

  private final Path target;
  private final Path staging;
  private final boolean overwrite;
  private final ExitHook abandonOnExit;
  private State state = State.OPEN;
  /** The previous output while a swap has it moved aside, until it is deleted. */
  private Path replaced;

  private AtomicOutputDirectory(Path target, Path staging, boolean overwrite) {
    this.target = target;
    this.staging = staging;
    this.overwrite = overwrite;
    // Registered before the staging folder exists: a signal from here on finds the hook, which removes the
    // folder if it got made.
    this.abandonOnExit = new ExitHook(this::abandon);
  }

  /**
   * Checks that the target can be written (an existing folder is replaced only with {@code overwrite}, and only
   * if it holds nothing but model files), removes what killed runs into the same place left, telling
   * {@code notice}, then creates the staging folder beside it.
   */
  public static AtomicOutputDirectory create(Path target, boolean overwrite, Consumer<String> notice) {
    Path absolute = OutputPaths.check(target);
    if (Files.exists(absolute) && !overwrite) {
      throw new UserError("output " + target + " already exists; pass --overwrite to replace it");
    }
    if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
      throw new UserError("output " + target + " exists and is not a directory");
    }
    if (Files.isDirectory(absolute)) {
      ModelFolderContents.checkReplaceable(absolute, target);
    }
    try {
      StagingName.cleanStale(absolute).forEach(notice);
    } catch (IOException e) {
      throw new UserError("cannot look for leftovers beside " + target + ": " + e.getMessage(), e);
    }
    AtomicOutputDirectory out = new AtomicOutputDirectory(absolute, StagingName.beside(absolute), overwrite);
    try {
      out.createStaging();
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
    return out;
  }

  private synchronized void createStaging() {
    if (state != State.OPEN) {
      throw new IllegalStateException("shutting down");
    }
    try {
      Files.createDirectory(staging);
    } catch (IOException e) {
      throw new UserError("cannot create " + staging + ": " + IoErrors.describe(e), e);
    }
  }

  /** Where files go until commit. */
  public Path staging() {
    return staging;
  }

  public Path target() {
    return target;
  }

  /**
   * fsyncs every file and the folder, then moves the folder into place, replacing the old one if allowed. The
   * renames run while holding this object's lock, which the shutdown hook needs too.
   */
  public void commit() {
    try {
      try (Stream<Path> files = Files.list(staging)) {
        for (Path f : files.toList()) {
          fsync(f, false);
        }
      }
      fsync(staging, true);
      swapIntoPlace();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish writing " + target + ": " + IoErrors.describe(e), e);
    }
    // The hook stays until the old output is gone: a signal before then still finds it to finish the job.
    deleteReplaced();
    abandonOnExit.remove();
  }

  private synchronized void swapIntoPlace() throws IOException {
    if (state != State.OPEN) {
      throw new IllegalStateException("the output was abandoned: the process is shutting down");
    }
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (!overwrite) {
        throw new UserError("output " + target + " appeared while merging; not replacing it");
      }
      Path aside = staging.resolveSibling(staging.getFileName() + StagingName.REPLACED);
      Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
      replaced = aside;
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    state = State.COMMITTED;
    fsync(target.getParent(), true);
  }

  /** Under the lock, so that a signal meanwhile waits and the hook never finds it half-deleted. */
  private synchronized void deleteReplaced() {
    if (replaced != null) {
      RecursiveDelete.quietly(replaced);
      replaced = null;
    }
  }

  /**
   * What the shutdown hook runs: before the commit, the staging folder goes and the commit will not happen; after
   * it, only the moved-aside previous output goes. Waits for a commit's renames in progress.
   */
  synchronized void abandon() {
    if (state == State.OPEN) {
      state = State.ABANDONED;
      RecursiveDelete.quietly(staging);
    } else if (replaced != null) {
      RecursiveDelete.quietly(replaced);
      replaced = null;
    }
  }

  /** Discards the staging folder unless committed. */
  @Override
  public void close() {
    abandon();
    abandonOnExit.remove();
  }


  private static void fsync(Path path, boolean directory) throws IOException {
    try (FileChannel channel = directory
        ? FileChannel.open(path, StandardOpenOption.READ)
        : FileChannel.open(path, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }
}
