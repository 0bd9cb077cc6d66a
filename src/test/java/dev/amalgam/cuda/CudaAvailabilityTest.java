package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaAvailabilityTest {
  @TempDir Path dir;

  /** Where there is no driver, as on the build machine, the answer is a reason, not an exception. */
  @Test
  void withoutADriverTheBackendIsUnavailableWithAReason() {
    assumeTrue(NativeLibraries.fromEnvironment().find(NativeLibraries.DRIVER).isEmpty(), "this machine has a driver");
    CudaAvailability availability = CudaAvailability.probe();
    assertFalse(availability.available());
    assertEquals("CUDA driver library libcuda.so.1 not found (no NVIDIA driver?)", availability.reason());
    assertTrue(availability.devices().isEmpty());
    assertSame(availability, CudaAvailability.probe(), "probed once per process");
    UserError error = assertThrows(UserError.class, () -> CudaContext.open(0));
    assertEquals("no GPU backend: " + availability.reason(), error.getMessage());
  }

  @Test
  void aMissingRuntimeLibraryIsNamedWhenTheDriverIsThere() throws IOException {
    Files.createFile(dir.resolve(NativeLibraries.DRIVER));
    String reason = CudaAvailability.explainLoadFailure(
        new UnsatisfiedLinkError("no jnicudart in java.library.path"), new NativeLibraries(List.of(dir)));
    assertTrue(reason.startsWith("CUDA 13 library libcudart.so.13 not found"), reason);
  }

  @Test
  void missingPresetsAreNamed() {
    String reason = CudaAvailability.explainLoadFailure(
        new NoClassDefFoundError("org/bytedeco/cuda/global/cudart"), new NativeLibraries(List.of(dir)));
    assertEquals("the JavaCPP CUDA presets (org.bytedeco:cuda) are not on the class path", reason);
  }

  @Test
  void whenEveryLibraryIsThereTheLoaderErrorIsShown() throws IOException {
    for (String library : NativeLibraries.CUDA_LIBRARIES) {
      Files.createFile(dir.resolve(library));
    }
    String reason = CudaAvailability.explainLoadFailure(
        new UnsatisfiedLinkError("undefined symbol: cuFoo"), new NativeLibraries(List.of(dir)));
    assertTrue(reason.contains("undefined symbol: cuFoo"), reason);
  }
}
