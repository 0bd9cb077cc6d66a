package dev.amalgam.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --cuda-graphs}, for the commands that generate. */
final class CudaGraphsOption {
  /** Set to {@code 0} or {@code false}, turns CUDA graphs off whatever the command line says. */
  static final String VARIABLE = "AMALGAM_CUDA_GRAPHS";

  @Option(names = "--cuda-graphs", arity = "0..1", defaultValue = "true", fallbackValue = "true",
      paramLabel = "true|false",
      description = "On the GPU, replay each decode step as a captured CUDA graph (default: ${DEFAULT-VALUE}); "
          + "false launches its kernels one by one. " + VARIABLE + "=0 in the environment turns graphs off too.")
  boolean requested;

  /** The command line's choice, unless the environment turns graphs off. */
  boolean enabled() {
    return enabled(requested, System.getenv());
  }

  static boolean enabled(boolean option, Map<String, String> environment) {
    String value = environment.get(VARIABLE);
    boolean offByEnvironment = value != null
        && (value.trim().equals("0") || value.trim().toLowerCase(Locale.ROOT).equals("false"));
    return option && !offByEnvironment;
  }
}
