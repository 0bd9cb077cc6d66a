package dev.amalgam.backend;

import dev.amalgam.UserError;
import dev.amalgam.backend.cpu.CpuBackend;

/** Picks the backend that runs generation for a {@code --device} choice. */
public final class GenerationBackends {
  private GenerationBackends() {}

  public static Backend open(DeviceChoice choice) {
    return switch (choice) {
      case CPU, AUTO -> new CpuBackend();
      case CUDA -> throw new UserError("CUDA generation backend not available yet; use --device cpu");
    };
  }
}
