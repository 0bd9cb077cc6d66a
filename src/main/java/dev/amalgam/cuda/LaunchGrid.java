package dev.amalgam.cuda;

/** A launch's grid (blocks in x, y, z) and its one-dimensional blocks of {@code threads} threads. */
public record LaunchGrid(int x, int y, int z, int threads) {
  public LaunchGrid {
    if (x < 1 || y < 1 || z < 1 || threads < 1 || threads > 1024) {
      throw new IllegalArgumentException("no launch of " + x + "×" + y + "×" + z + " blocks of " + threads + " threads");
    }
  }

  public static LaunchGrid of(int blocks, int threads) {
    return new LaunchGrid(blocks, 1, 1, threads);
  }
}
