package dev.amalgam;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A text file read whole, up to a size its purpose justifies: a merge config or a chat template is a few KB, so
 * a limit of a few MB stops a runaway file from exhausting memory, and only regular files are read, so a device
 * or a pipe can neither stream forever nor block. The text must be UTF-8.
 */
public final class BoundedText {
  private BoundedText() {}

  /**
   * The UTF-8 text of {@code file}, read until at most {@code maxBytes}; {@code what} names the file in errors
   * ("a merge config").
   */
  public static String read(Path file, long maxBytes, String what) {
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw new UserError(what + " " + file + (Files.isDirectory(file) ? " is a folder" : " is not a regular file")
          + "; give the path of a file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, maxBytes, what + " " + file);
    } catch (NoSuchFileException e) {
      throw new UserError(what + " " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw new UserError("cannot read " + what + " " + file + ": permission denied");
    } catch (IOException e) {
      throw new UserError("cannot read " + what + " " + file + ": " + e.getMessage(), e);
    }
  }

  /** The UTF-8 text of a stream (standard input), read until at most {@code maxBytes}. */
  public static String read(InputStream in, long maxBytes, String what) {
    byte[] bytes;
    try {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    } catch (IOException e) {
      throw new UserError("cannot read " + what + ": " + e.getMessage(), e);
    }
    if (bytes.length > maxBytes) {
      throw new UserError(what + " is over " + describe(maxBytes) + ", more than one can be");
    }
    return utf8(bytes, what);
  }

  /** {@code bytes} decoded as UTF-8; malformed input is a user error naming {@code what}. */
  public static String utf8(byte[] bytes, String what) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new UserError(what + " is not UTF-8 text");
    }
  }

  private static String describe(long bytes) {
    return bytes >= 1 << 20 ? bytes / (1 << 20) + " MiB" : bytes / 1024 + " KiB";
  }
}
