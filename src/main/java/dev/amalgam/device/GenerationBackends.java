package dev.amalgam.device;

import dev.amalgam.backend.Backend;
import dev.amalgam.UserError;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.backend.cuda.CudaBackend;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** Picks the backend that runs generation for a {@code --device} choice. */
public final class GenerationBackends {
  /** Set to {@code 0} or {@code false}, turns CUDA graphs off whatever the command line says. */
  public static final String CUDA_GRAPHS_VARIABLE = "AMALGAM_CUDA_GRAPHS";

  private GenerationBackends() {}

  /**
   * {@code auto} takes the GPU when the CUDA backend can run and otherwise says once, through {@code notice},
   * why not; {@code cuda} without it is a user error naming the reason; {@code cpu} never touches CUDA.
   * {@code cudaGraphs} says whether the CUDA backend replays decode steps as graphs.
   */
  public static Backend open(DeviceChoice choice, boolean cudaGraphs, Consumer<String> notice) {
    if (choice != DeviceChoice.CPU) {
      String reason = CudaBackend.unavailableReason();
      if (reason == null) {
        return CudaBackend.open(0, cudaGraphs);
      }
      if (choice == DeviceChoice.CUDA) {
        throw new UserError("--device cuda, but there is no GPU backend: " + reason);
      }
      notice.accept("note: no usable GPU (" + reason + "); generating on the CPU");
    }
    return new CpuBackend();
  }

  /** Whether to use CUDA graphs: the command line's choice, unless the environment turns them off. */
  public static boolean cudaGraphs(boolean option, Map<String, String> environment) {
    String value = environment.get(CUDA_GRAPHS_VARIABLE);
    boolean offByEnvironment = value != null
        && (value.trim().equals("0") || value.trim().toLowerCase(Locale.ROOT).equals("false"));
    return option && !offByEnvironment;
  }
}
