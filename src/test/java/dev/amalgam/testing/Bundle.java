package dev.amalgam.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The cluster bundle that scripts/dist.sh packs, unpacked and run as on a node that has no Java. */
public final class Bundle {
  private Bundle() {}

  /** What a command printed, and how it ended; {@code text} is stdout then stderr. */
  public record Result(int exitCode, String out, String text) {}

  /**
   * Unpacks {@code target/amalgam-0.1.0-linux-x86_64VARIANT.tar.gz} ({@code ""} or {@code "-gpu"}) into {@code dir}
   * and returns its launcher; skips the calling test where it was not built, unless CI requires it.
   */
  public static Path unpack(String variant, Path dir) throws Exception {
    Path archive = Path.of("target/amalgam-0.1.0-linux-x86_64" + variant + ".tar.gz");
    Toolchain.require(Files.isRegularFile(archive), "the bundle " + archive + " (scripts/dist.sh)");
    Result untar = run(dir, List.of("tar", "-xzf", archive.toAbsolutePath().toString()), System.getenv("PATH"));
    assertTrue(untar.exitCode() == 0, untar.text());
    return dir.resolve("amalgam-0.1.0-linux-x86_64" + variant + "/bin/amalgam");
  }

  /** A PATH of one new folder in {@code dir} holding links to {@code tools} (from this PATH), and no java. */
  public static String pathOf(Path dir, String... tools) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("path"));
    for (String tool : tools) {
      Files.createSymbolicLink(bin.resolve(tool), Path.of(which(tool)));
    }
    return bin.toString();
  }

  /** {@code command} in {@code cwd} with {@code path} as PATH and no JAVA_HOME. */
  public static Result run(Path cwd, List<String> command, String path) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
    builder.environment().put("PATH", path);
    builder.environment().remove("JAVA_HOME");
    Path err = Files.createTempFile(cwd, "stderr", ".txt");
    builder.redirectError(err.toFile());
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
    return new Result(process.exitValue(), out, out + Files.readString(err));
  }

  private static String which(String tool) throws Exception {
    for (String folder : System.getenv("PATH").split(":")) {
      Path candidate = Path.of(folder, tool);
      if (Files.isExecutable(candidate)) {
        return candidate.toRealPath().toString();
      }
    }
    throw new AssertionError(tool + " is not on the PATH");
  }
}
