package dev.amalgam.io;

import dev.amalgam.UserError;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** The checks every output path gets before anything is written: the mistakes a shell makes easily. */
public final class OutputPaths {
  private OutputPaths() {}

  /** {@code output} made absolute and normalized, or a user error saying why it cannot be an output. */
  public static Path check(Path output) {
    String text = output.toString();
    if (text.isBlank()) {
      throw new UserError("the output path is empty (an unset shell variable?)");
    }
    Path absolute;
    try {
      absolute = output.toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new UserError("the output path " + text + " is not a valid path: " + e.getReason());
    }
    Path parent = absolute.getParent();
    if (parent == null || absolute.getFileName() == null) {
      throw new UserError("the output " + output + " is the root of the file system");
    }
    if (Files.isSymbolicLink(absolute)) {
      throw new UserError("output " + output + " is a symbolic link; give the path it should be written to");
    }
    if (!Files.isDirectory(parent)) {
      throw new UserError("the folder that should hold " + output + " does not exist");
    }
    if (!Files.isWritable(parent)) {
      throw new UserError("cannot write into " + parent);
    }
    return absolute;
  }
}
