package dev.amalgam.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The disk's floor for a merge: reading every input byte once, and writing the output's bytes with
 * fdatasync. A merge cannot beat the sum by much more than their overlap, so ratios are reported against it.
 */
public final class IoFloor {
  private static final int BUFFER = 64 << 20;

  private IoFloor() {}

  /** Page cache state matters more than anything else here: drop it where the OS lets us (root on Linux). */
  public static boolean dropPageCache() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Seconds to read the files start to end. */
  public static double readSeconds(List<Path> files) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
    long start = System.nanoTime();
    for (Path f : files) {
      try (FileChannel channel = FileChannel.open(f, StandardOpenOption.READ)) {
        while (channel.read(buffer.clear()) > 0) {
          // Reading is the whole point: the bytes themselves are not needed.
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /**
   * Seconds to write {@code bytes} into a scratch file in {@code dir} and fdatasync it; the file is removed.
   * The bytes are random, like weights: some storage writes zeros at a very different speed (measured here:
   * 581 MB/s for zeros against 1.4 GB/s for checkpoint bytes).
   */
  public static double writeSeconds(Path dir, long bytes) {
    Path scratch = dir.resolve("io-floor.tmp");
    ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
    byte[] noise = new byte[BUFFER];
    new SplittableRandom(1).nextBytes(noise);
    buffer.put(noise);
    long start = System.nanoTime();
    try (FileChannel channel = FileChannel.open(scratch, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      long left = bytes;
      while (left > 0) {
        buffer.clear().limit((int) Math.min(BUFFER, left));
        left -= channel.write(buffer);
      }
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + scratch, e);
    } finally {
      try {
        Files.deleteIfExists(scratch);
      } catch (IOException ignored) {
        // A scratch file in the bench folder: harmless if it stays.
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }
}
