package dev.amalgam.backend;

import dev.amalgam.UserError;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.backend.cuda.CudaBackend;
import java.util.function.Consumer;

/** Picks the backend that runs generation for a {@code --device} choice. */
public final class GenerationBackends {
  private GenerationBackends() {}

  /**
   * {@code auto} takes the GPU when the CUDA backend can run and otherwise says once, through {@code notice},
   * why not; {@code cuda} without it is a user error naming the reason; {@code cpu} never touches CUDA.
   */
  public static Backend open(DeviceChoice choice, Consumer<String> notice) {
    if (choice != DeviceChoice.CPU) {
      String reason = CudaBackend.unavailableReason();
      if (reason == null) {
        return CudaBackend.open(0);
      }
      if (choice == DeviceChoice.CUDA) {
        throw new UserError("--device cuda, but there is no GPU backend: " + reason);
      }
      notice.accept("note: no usable GPU (" + reason + "); generating on the CPU");
    }
    return new CpuBackend();
  }
}
