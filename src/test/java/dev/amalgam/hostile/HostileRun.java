package dev.amalgam.hostile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs one prepared case as its own {@code amalgam} process (so a hang, an abort or a runaway allocation is
 * caught, not suffered) and judges it. Clean means: exit 0, or exit 2 (a mistake) or 1 (a runtime failure) with
 * exactly one {@code error:} line (besides notes and warnings); no stack trace, no native crash report; done within {@link #TIME_LIMIT_S}
 * and within {@link #HEAP} of heap (running out counts as unbounded work); nothing in the work folder changed
 * but the output, no output after a failure, and no hidden staging left anywhere.
 */
final class HostileRun {
  static final int TIME_LIMIT_S = 60;
  static final String HEAP = "-Xmx1g";
  private static final List<String> CRASH_MARKERS = List.of("\tat ", "Exception in thread", "panicked at",
      "frame #", "fatal runtime error", "A fatal error has been detected", "out of memory");

  /** The verdict: null when clean, else why not; and what the process printed, for the report. */
  record Verdict(String problem, int exit, String stderr) {
    boolean clean() {
      return problem == null;
    }
  }

  private HostileRun() {}

  static Verdict run(Path work, List<String> args, String classPath) throws IOException, InterruptedException {
    Map<String, String> before = snapshot(work);
    List<String> command = new ArrayList<>(List.of(javaBinary(), HEAP, "-cp", classPath, "dev.amalgam.cli.Main"));
    command.addAll(args);
    Path stdout = Files.createTempFile("hostile", ".out");
    Path stderr = Files.createTempFile("hostile", ".err");
    try {
      Process process = new ProcessBuilder(command).directory(work.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      if (!process.waitFor(TIME_LIMIT_S, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
        return new Verdict("still running after " + TIME_LIMIT_S + " s", -1, "");
      }
      String err = Files.readString(stderr, StandardCharsets.UTF_8);
      return new Verdict(judge(process.exitValue(), err, work, before), process.exitValue(), err);
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  private static String judge(int exit, String err, Path work, Map<String, String> before) throws IOException {
    for (String marker : CRASH_MARKERS) {
      if (err.contains(marker)) {
        return "stderr shows `" + marker.trim() + "`";
      }
    }
    // A success may print statistics on stderr; a failure prints its one line, after any notes and warnings.
    List<String> errors = err.lines().filter(l -> !l.startsWith("note: ") && !l.startsWith("warning: ")).toList();
    if (exit != 0) {
      if (exit != 1 && exit != 2) {
        return "exit " + exit;
      }
      if (errors.size() != 1 || !errors.get(0).startsWith("error: ")) {
        return "exit " + exit + " with " + errors.size() + " lines on stderr, not one `error:` line";
      }
    }
    Map<String, String> after = snapshot(work);
    for (Map.Entry<String, String> e : before.entrySet()) {
      if (exit == 0 && isOutput(e.getKey())) {
        continue;  // a successful run replaces its output
      }
      if (!e.getValue().equals(after.get(e.getKey()))) {
        return "changed or removed " + e.getKey();
      }
    }
    for (String path : after.keySet()) {
      if (!before.containsKey(path)) {
        if (path.contains(".amalgam-")) {
          return "left staging behind: " + path;
        }
        if (!isOutput(path)) {
          return "wrote outside the output: " + path;
        }
        if (exit != 0) {
          return "wrote " + path + " and failed";
        }
      }
    }
    return null;
  }

  private static boolean isOutput(String path) {
    return path.equals("out") || path.startsWith("out/") || path.equals("out.jsonl");
  }

  /** Every path under {@code work} with its size and content hash: enough to tell any change. */
  static Map<String, String> snapshot(Path work) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(work)) {
      for (Path p : walk.toList()) {
        if (p.equals(work)) {
          continue;
        }
        String key = work.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          files.put(key, "link " + Files.readSymbolicLink(p));
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          files.put(key, Files.size(p) + " " + java.util.Arrays.hashCode(Files.readAllBytes(p)));
        } else {
          files.put(key, Files.isDirectory(p) ? "dir" : "node");
        }
      }
    }
    return files;
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
