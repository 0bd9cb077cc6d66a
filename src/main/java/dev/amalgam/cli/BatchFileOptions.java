package dev.amalgam.cli;

import dev.amalgam.UserError;
import dev.amalgam.batch.BatchPlan;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The batch file and its output folder, which `batch`, `batch status` and `batch cancel` all take. Checked here
 * rather than by picocli, so `amalgam batch status ...` is not read as a batch file named "status" missing options.
 */
final class BatchFileOptions {
  @Parameters(index = "0", arity = "0..1", paramLabel = "BATCH.yml",
      description = "The batch file (paths relative to its folder).")
  Path file;

  @Option(names = "--out-dir", paramLabel = "DIR", description = "Where each merge writes DIR/NAME (required).")
  Path outDir;

  BatchPlan plan() {
    if (file == null) {
      throw new UserError("name the batch file: amalgam batch BATCH.yml --out-dir DIR");
    }
    if (outDir == null) {
      throw new UserError("--out-dir DIR is required: each merge writes DIR/NAME");
    }
    return BatchPlan.load(file, outDir);
  }
}
