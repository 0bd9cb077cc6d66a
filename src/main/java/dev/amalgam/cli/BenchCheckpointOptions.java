package dev.amalgam.cli;

import dev.amalgam.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the merge benchmarks write their random checkpoints, and at what shape. */
final class BenchCheckpointOptions {
  @Option(names = "--model-config", defaultValue = "examples/deepseek-r1-distill-qwen-1.5b.config.json",
      paramLabel = "CONFIG.json", description = "Shape of the random checkpoints (default: ${DEFAULT-VALUE}).")
  Path modelConfig;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where checkpoints and outputs go (default: <tmp>/amalgam-bench).")
  Path workDir = Path.of(System.getProperty("java.io.tmpdir"), "amalgam-bench");

  /** The shape's config.json, which must exist. */
  Path modelConfig() {
    if (!Files.isRegularFile(modelConfig)) {
      throw new UserError("model config " + modelConfig + " not found (pass --model-config CONFIG.json)");
    }
    return modelConfig;
  }
}
