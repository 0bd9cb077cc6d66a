package dev.amalgam.cuda;

/**
 * Pinned host memory that grows on demand, for the sampler's per-call inputs and outputs. Callers only reuse
 * it after synchronizing with the copies that read or wrote it.
 */
public final class PinnedScratch implements AutoCloseable {
  private PinnedBuffer buffer;

  public PinnedBuffer atLeast(long bytes) {
    if (buffer == null || buffer.bytes() < bytes) {
      if (buffer != null) {
        buffer.close();
      }
      buffer = null;
      buffer = PinnedBuffer.allocate(bytes);
    }
    return buffer;
  }

  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
      buffer = null;
    }
  }
}
