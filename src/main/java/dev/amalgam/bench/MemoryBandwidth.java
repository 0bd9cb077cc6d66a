package dev.amalgam.bench;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;

/**
 * The device's copy bandwidth, measured through {@link Backend#copyRows} so that the same code times libtorch's
 * memcpy on the CPU and a device-to-device copy on a GPU. A batch-1 decode step streams every weight once, so
 * this bandwidth bounds its speed: the ceiling is bandwidth ÷ bytes of weights.
 */
public final class MemoryBandwidth {
  /** Copies per timing, so that one synchronisation is small beside the copies it waits for. */
  private static final int COPIES = 8;
  private static final int ROUNDS = 3;
  private static final int COLS = 4096;

  private MemoryBandwidth() {}

  /**
   * Copies a buffer of about {@code bufferBytes} into another, and returns the best of a few rounds in bytes
   * per second, counting each byte read and each byte written (a copy moves twice its size).
   */
  public static double measure(Backend backend, long bufferBytes) {
    try (Tensor probe = backend.allocate(1, 1)) {
      long elementBytes;
      int rows;
      try (Tensor sizing = backend.allocate(1, COLS)) {
        elementBytes = sizing.dtype().byteSize();
        rows = Math.toIntExact(Math.max(1, bufferBytes / (elementBytes * COLS)));
      }
      try (Tensor src = backend.allocate(rows, COLS); Tensor dst = backend.allocate(rows, COLS)) {
        // The first copy faults the pages in (or wakes the GPU's clocks); it is not timed.
        backend.copyRows(src, 0, dst, 0, rows);
        backend.download(probe);
        double best = 0;
        for (int round = 0; round < ROUNDS; round++) {
          long start = System.nanoTime();
          for (int i = 0; i < COPIES; i++) {
            backend.copyRows(i % 2 == 0 ? src : dst, 0, i % 2 == 0 ? dst : src, 0, rows);
          }
          backend.download(probe);
          double seconds = (System.nanoTime() - start) / 1e9;
          best = Math.max(best, 2.0 * COPIES * rows * COLS * elementBytes / seconds);
        }
        return best;
      }
    }
  }
}
