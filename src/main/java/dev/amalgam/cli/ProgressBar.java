package dev.amalgam.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr, redrawn at most a few times a second. It only draws on a terminal:
 * piped or redirected stderr (scripts, cluster logs) stays silent.
 */
final class ProgressBar {
  private static final long REDRAW_NANOS = 200_000_000L;
  private static final int WIDTH = 30;

  private final PrintStream err;
  private final String unit;
  private final long totalItems;
  private final long totalBytes;
  private final long start = System.nanoTime();
  private long items;
  private long bytes;
  private long lastDraw;

  private ProgressBar(PrintStream err, String unit, long totalItems, long totalBytes) {
    this.err = err;
    this.unit = unit;
    this.totalItems = totalItems;
    this.totalBytes = totalBytes;
  }

  /** A bar that draws, or null where stderr is not a terminal (callers then skip progress entirely). */
  static ProgressBar onTerminal(String unit, long totalItems, long totalBytes) {
    return System.console() == null ? null : new ProgressBar(System.err, unit, totalItems, totalBytes);
  }

  synchronized void advance(long itemBytes) {
    items++;
    bytes += itemBytes;
    long now = System.nanoTime();
    if (now - lastDraw >= REDRAW_NANOS || items == totalItems) {
      lastDraw = now;
      draw(now);
    }
  }

  synchronized void finish() {
    err.print("\r\033[K");
    err.flush();
  }

  private void draw(long now) {
    double fraction = totalBytes == 0 ? 1 : (double) bytes / totalBytes;
    int filled = (int) Math.round(fraction * WIDTH);
    double seconds = Math.max(1e-9, (now - start) / 1e9);
    err.printf(Locale.ROOT, "\r[%s%s] %d/%d %s  %.2f/%.2f GB  %.2f GB/s", "#".repeat(filled),
        ".".repeat(WIDTH - filled), items, totalItems, unit, bytes / 1e9, totalBytes / 1e9, bytes / 1e9 / seconds);
    err.flush();
  }
}
