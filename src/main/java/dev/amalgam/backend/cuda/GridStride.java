package dev.amalgam.backend.cuda;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.LaunchGrid;

/**
 * The launch shape of the grid-stride kernels (elementwise.cu, rope.cu, kv_store): blocks of {@link #THREADS},
 * as many as the elements need up to {@link #BLOCKS_PER_MULTIPROCESSOR} per multiprocessor; the kernels' loops
 * stride over the rest.
 */
final class GridStride {
  static final int THREADS = 256;
  /** Enough resident blocks per multiprocessor to saturate memory bandwidth; more would only add scheduling. */
  static final int BLOCKS_PER_MULTIPROCESSOR = 8;

  private GridStride() {}

  static LaunchGrid over(KernelLauncher launcher, long elements) {
    long maxBlocks = Math.max(1L, (long) launcher.multiprocessors() * BLOCKS_PER_MULTIPROCESSOR);
    return LaunchGrid.of((int) Math.max(1, Math.min(maxBlocks, (elements + THREADS - 1) / THREADS)), THREADS);
  }
}
