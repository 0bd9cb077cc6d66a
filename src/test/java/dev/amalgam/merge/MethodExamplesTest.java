package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.amalgam.cli.CliRun;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The README's example config for each method (examples/methods) merges the bundled models as it says. */
class MethodExamplesTest {
  private static final Path EXAMPLES = Path.of("examples/methods");

  @TempDir Path dir;

  static Stream<Path> examples() throws IOException {
    return Files.list(EXAMPLES).filter(p -> p.toString().endsWith(".yml")).sorted();
  }

  @ParameterizedTest
  @MethodSource("examples")
  void mergesTheBundledModelsOverTheBase(Path config) {
    Path out = dir.resolve("out");
    CliRun run = CliRun.of("merge", config.toString(), out.toString(), "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    Map<String, HostTensor> merged = TestModels.load(out);
    Map<String, HostTensor> base = TestModels.load(Path.of("examples/qwen2-tiny-base"));
    String name = "model.layers.1.mlp.down_proj.weight";
    assertNotEquals(base.get(name).data(), merged.get(name).data(), "the merge left the base as it was");
  }

  /** One example per method of the registry but linear, which has examples/linear.yml. */
  @Test
  void everyMethodHasAnExample() throws IOException {
    for (String method : MergeMethods.names()) {
      assertEquals(!method.equals("linear"), Files.exists(EXAMPLES.resolve(method + ".yml")), method);
    }
  }
}
