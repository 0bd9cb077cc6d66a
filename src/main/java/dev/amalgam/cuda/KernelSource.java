package dev.amalgam.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A {@code cuda-kernels/*.cu} file, read from the class path (the jar carries them). */
public record KernelSource(String fileName, String text) {

  public static KernelSource load(String fileName) {
    String resource = "cuda-kernels/" + fileName;
    try (InputStream in = KernelSource.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the class path; the build should copy it");
      }
      return new KernelSource(fileName, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }

  /** {@code merge} for {@code merge.cu}. */
  public String baseName() {
    int dot = fileName.lastIndexOf('.');
    return dot < 0 ? fileName : fileName.substring(0, dot);
  }
}
