package dev.amalgam.backend.cuda.emulated;

/**
 * The launch shape of CudaBackend's grid-stride kernels (elementwise.cu, rope, kv_store): blocksFor(n) blocks
 * of ELEMENTWISE_THREADS, at most BLOCKS_PER_MULTIPROCESSOR per multiprocessor. Mirrored from those private
 * constants; the emulation has one multiprocessor, so a few thousand elements go round the stride loops.
 */
final class GridStride {
  static final int THREADS = 256;
  static final int MAX_BLOCKS = 8 * 1;

  private GridStride() {}

  static int blocksFor(long elements) {
    return (int) Math.max(1, Math.min(MAX_BLOCKS, (elements + THREADS - 1) / THREADS));
  }
}
