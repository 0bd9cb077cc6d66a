package dev.amalgam.merge;

import dev.amalgam.backend.DeviceChoice;
import java.util.function.Consumer;

/** Picks the merge engine for a {@code --device} choice. */
public final class MergeEngines {
  private MergeEngines() {}

  public static MergeEngine open(DeviceChoice choice, Integer threads, Consumer<String> notice) {
    return threads == null ? new CpuMergeEngine() : new CpuMergeEngine(threads);
  }
}
