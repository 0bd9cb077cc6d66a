package dev.amalgam.cli;

import dev.amalgam.device.GenerationBackends;
import picocli.CommandLine.Option;

/** {@code --cuda-graphs}, for the commands that generate. */
final class CudaGraphsOption {
  @Option(names = "--cuda-graphs", arity = "0..1", defaultValue = "true", fallbackValue = "true",
      paramLabel = "true|false",
      description = "On the GPU, replay each decode step as a captured CUDA graph (default: ${DEFAULT-VALUE}); "
          + "false launches its kernels one by one. " + GenerationBackends.CUDA_GRAPHS_VARIABLE
          + "=0 in the environment turns graphs off too.")
  boolean requested;

  /** The command line's choice, unless the environment turns graphs off. */
  boolean enabled() {
    return GenerationBackends.cudaGraphs(requested, System.getenv());
  }
}
