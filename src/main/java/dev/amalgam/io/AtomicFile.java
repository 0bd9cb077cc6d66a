package dev.amalgam.io;

import dev.amalgam.UserError;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A text file that appears complete or not at all: written to a hidden staging sibling ({@link StagingName}),
 * which {@link #commit()} fsyncs and renames over the target. Closing without a commit, or a signal before the
 * rename (through a shutdown hook that the rename excludes), removes the staging file, so a failed run leaves
 * the previous file (or none) in place. Only a regular file or a new path is written: a rename over a device
 * node or a link would replace the node or the link itself.
 */
public final class AtomicFile implements AutoCloseable {
  private final Path target;
  private final Path staging;
  private final ExitHook abandonOnExit;
  private FileChannel channel;
  private Writer writer;
  private boolean committed;
  private boolean abandoned;

  private AtomicFile(Path target, Path staging) {
    this.target = target;
    this.staging = staging;
    this.abandonOnExit = new ExitHook(this::abandon);  // before the staging file exists, as for folders
  }

  public static AtomicFile create(Path target) {
    Path absolute = OutputPaths.check(target);
    if (Files.isDirectory(absolute)) {
      throw new UserError("output " + target + " is a directory");
    }
    if (Files.exists(absolute) && !Files.isRegularFile(absolute)) {
      throw new UserError("output " + target + " is not a regular file (a device, a pipe or a socket); write to a "
          + "new path or a regular file");
    }
    AtomicFile file = new AtomicFile(absolute, StagingName.beside(absolute));
    try {
      file.open();
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
    return file;
  }

  private synchronized void open() {
    if (abandoned) {
      throw new IllegalStateException("shutting down");
    }
    try {
      channel = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UserError("cannot write " + staging + ": " + IoErrors.describe(e), e);
    }
    writer = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
  }

  /** Where the text goes until {@link #commit()}; UTF-8, buffered. */
  public Writer writer() {
    return writer;
  }

  public void commit() {
    try {
      writer.flush();
      channel.force(true);
      channel.close();
      renameIntoPlace();
      try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish writing " + target + ": " + IoErrors.describe(e), e);
    } finally {
      abandonOnExit.remove();
    }
  }

  private synchronized void renameIntoPlace() throws IOException {
    if (abandoned) {
      throw new IllegalStateException("the output was abandoned: the process is shutting down");
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    committed = true;
  }

  /** What the shutdown hook runs: unless committed, the staging file goes and the commit will not happen. */
  synchronized void abandon() {
    if (committed || abandoned) {
      return;
    }
    abandoned = true;
    try {
      if (channel != null) {
        channel.close();
      }
      Files.deleteIfExists(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + staging + ": " + IoErrors.describe(e), e);
    }
  }

  @Override
  public void close() {
    abandon();
    abandonOnExit.remove();
  }

}
