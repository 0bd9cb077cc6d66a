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
import java.util.UUID;

/**
 * A text file that appears complete or not at all: written to a hidden temporary sibling, which
 * {@link #commit()} fsyncs and renames over the target. Closing without a commit removes the temporary file, so
 * a failed run leaves the previous file (or none) in place.
 */
public final class AtomicFile implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final FileChannel channel;
  private final Writer writer;
  private boolean committed;

  private AtomicFile(Path target, Path temp, FileChannel channel) {
    this.target = target;
    this.temp = temp;
    this.channel = channel;
    this.writer = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
  }

  public static AtomicFile create(Path target) {
    Path absolute = target.toAbsolutePath().normalize();
    Path parent = absolute.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new UserError("the folder that should hold " + target + " does not exist");
    }
    if (Files.isDirectory(absolute)) {
      throw new UserError("output " + target + " is a directory");
    }
    Path temp = parent.resolve("." + absolute.getFileName() + ".amalgam-" + UUID.randomUUID().toString().substring(0, 8));
    try {
      return new AtomicFile(absolute, temp,
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    } catch (IOException e) {
      throw new UserError("cannot write " + temp + ": " + e.getMessage(), e);
    }
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
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      committed = true;
      try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish writing " + target, e);
    }
  }

  @Override
  public void close() {
    if (!committed) {
      try {
        channel.close();
        Files.deleteIfExists(temp);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove " + temp, e);
      }
    }
  }
}
