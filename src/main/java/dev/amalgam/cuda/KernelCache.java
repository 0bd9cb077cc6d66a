package dev.amalgam.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compiled CUBIN on disk, so NVRTC runs once per kernel source, GPU architecture, option set and compiler
 * version. Files are written to a temporary name and renamed into place, so a reader (another amalgam
 * process, say) sees either nothing or a whole file; anything that is not an ELF image counts as a miss.
 */
public final class KernelCache {
  private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

  private final Path dir;

  public KernelCache(Path dir) {
    this.dir = dir;
  }

  /** {@code $AMALGAM_CACHE_DIR}, else {@code ~/.cache/amalgam/cubin}. */
  public static KernelCache fromEnvironment() {
    return new KernelCache(defaultDir(System.getenv(), System.getProperty("user.home")));
  }

  static Path defaultDir(Map<String, String> environment, String userHome) {
    String configured = environment.get("AMALGAM_CACHE_DIR");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return Path.of(userHome, ".cache", "amalgam", "cubin");
  }

  public Path dir() {
    return dir;
  }

  /**
   * SHA-256 over every input that changes the compiled code. Each part is length-prefixed so that moving
   * text between parts changes the key.
   */
  public static String key(String source, String architecture, List<String> options, String compilerVersion) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    update(sha, source);
    update(sha, architecture);
    update(sha, String.valueOf(options.size()));
    for (String option : options) {
      update(sha, option);
    }
    update(sha, compilerVersion);
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void update(MessageDigest sha, String part) {
    byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
    sha.update(String.valueOf(bytes.length).getBytes(StandardCharsets.US_ASCII));
    sha.update((byte) ':');
    sha.update(bytes);
  }

  /** {@code merge-<key>.cubin}: the kernel name is only there for people listing the folder. */
  public Path fileFor(String kernelName, String key) {
    return dir.resolve(kernelName + "-" + key + ".cubin");
  }

  public Optional<byte[]> read(String kernelName, String key) {
    try {
      byte[] image = Files.readAllBytes(fileFor(kernelName, key));
      return isElf(image) ? Optional.of(image) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty(); // absent or unreadable: a miss, and the kernel is simply compiled again
    }
  }

  public void write(String kernelName, String key, byte[] cubin) throws IOException {
    Files.createDirectories(dir);
    Path target = fileFor(kernelName, key);
    Path temp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
    try {
      Files.write(temp, cubin);
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static boolean isElf(byte[] image) {
    if (image.length < ELF_MAGIC.length) {
      return false;
    }
    for (int i = 0; i < ELF_MAGIC.length; i++) {
      if (image[i] != ELF_MAGIC[i]) {
        return false;
      }
    }
    return true;
  }
}
