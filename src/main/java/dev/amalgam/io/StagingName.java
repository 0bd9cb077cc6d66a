package dev.amalgam.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The hidden sibling an output is staged under, {@code .NAME.amalgam-PID-RANDOM}, and what a killed run left
 * under such names. The owner's PID is in the name, so a later run into the same place can tell a live run's
 * staging (left alone) from a dead one's (removed, or restored when it is the previous output that a swap had
 * moved aside). NAME is cut to {@link #MAX_NAME_CHARS} so the staging name stays within the 255-byte limit of
 * a file name.
 */
public final class StagingName {
  static final int MAX_NAME_CHARS = 200;
  /** The suffix of the previous output while a swap has it moved aside. */
  static final String REPLACED = ".old";
  private static final Pattern NAME = Pattern.compile("\\.(.*)\\.amalgam-(\\d+)-([0-9a-f]{8})(\\.old)?");

  private StagingName() {}

  /** A fresh staging path beside {@code target} (absolute, normalized), owned by this process. */
  static Path beside(Path target) {
    String random = UUID.randomUUID().toString().substring(0, 8);
    return target.resolveSibling("." + shortName(target) + ".amalgam-" + ProcessHandle.current().pid() + "-" + random);
  }

  private static String shortName(Path target) {
    String name = target.getFileName().toString();
    return name.length() <= MAX_NAME_CHARS ? name : name.substring(0, MAX_NAME_CHARS);
  }

  /**
   * Removes what runs into {@code target} left when they were killed, and returns a line for each thing done.
   * A stale moved-aside previous output is put back when {@code target} is missing (a kill between the two
   * renames of a swap), and removed otherwise; a stale staging folder or file is removed.
   */
  static List<String> cleanStale(Path target) throws IOException {
    List<String> done = new ArrayList<>();
    Path parent = target.getParent();
    List<Path> siblings;
    try (Stream<Path> list = Files.list(parent)) {
      siblings = list.filter(p -> isStaleFor(p, target)).sorted().toList();
    }
    for (Path stale : siblings) {
      if (stale.getFileName().toString().endsWith(REPLACED) && !Files.exists(target)) {
        Files.move(stale, target, StandardCopyOption.ATOMIC_MOVE);
        done.add("restored " + target + " from " + stale.getFileName() + ", moved aside by a run that was killed");
      } else {
        RecursiveDelete.quietly(stale);
        done.add("removed " + stale + ", left by a run into " + target.getFileName() + " that was killed");
      }
    }
    return done;
  }

  private static boolean isStaleFor(Path candidate, Path target) {
    Matcher m = NAME.matcher(candidate.getFileName().toString());
    if (!m.matches() || !m.group(1).equals(shortName(target))) {
      return false;
    }
    long pid = Long.parseLong(m.group(2));
    return !ownerAlive(pid, candidate);
  }

  /**
   * Whether process {@code pid} may still be the one writing {@code staging}: it runs, and it started before
   * the staging was last modified (a process started later only reuses the PID).
   */
  private static boolean ownerAlive(long pid, Path staging) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()) {
      return false;
    }
    Optional<Instant> started = process.get().info().startInstant();
    try {
      Instant modified = Files.getLastModifiedTime(staging).toInstant();
      return started.isEmpty() || !started.get().isAfter(modified);
    } catch (IOException gone) {
      return true;  // removed meanwhile, by its owner: nothing to clean
    }
  }
}
