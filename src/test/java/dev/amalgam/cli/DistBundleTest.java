package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.Bundle;
import dev.amalgam.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cluster bundles that scripts/dist.sh packs (.ci/run builds them before the tests), unpacked into an empty
 * folder and run with a PATH that holds no Java: doctor, and the demo merge, bit for bit the exact linear merge.
 */
class DistBundleTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"", "-gpu"})
  void theBundleRunsWithoutAJavaOnThePath(String variant) throws Exception {
    Path launcher = Bundle.unpack(variant, dir);
    // The launcher's own needs, and nothing else.
    String path = Bundle.pathOf(dir, "dirname", "readlink");
    assertEquals(127, Bundle.run(dir, List.of("sh", "-c", "command -v java"), path).exitCode(), "java on the PATH");

    Bundle.Result doctor = Bundle.run(dir, List.of(launcher.toString(), "doctor", "--json"), path);
    assertEquals(0, doctor.exitCode(), doctor.text());
    JsonNode report = new ObjectMapper().readTree(doctor.out());
    assertEquals(variant.isEmpty(), report.path("cpuBackend").path("available").asBoolean(), doctor.out());

    Path merged = dir.resolve("merged");
    Bundle.Result merge = Bundle.run(dir, List.of(launcher.toString(), "merge",
        Path.of("examples/linear.yml").toAbsolutePath().toString(), merged.toString(), "--device", "cpu"), path);
    assertEquals(0, merge.exitCode(), merge.text());
    TestModels.assertSameTensors(Path.of("examples/qwen2-tiny-merged-linear"), merged);
  }
}
