package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.amalgam.testing.Toolchain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Compiles every {@code cuda-kernels/*.cu} with nvcc where nvcc exists: the syntax and type check the design
 * promises without a GPU. It also checks that the jar carries the same sources NVRTC will compile.
 */
class CudaKernelsCompileTest {

  @Test
  void everyKernelSourceCompilesWithNvcc() throws IOException, InterruptedException {
    Optional<Path> nvcc = findNvcc();
    Toolchain.require(nvcc.isPresent(), "nvcc (on PATH or in /usr/local/cuda/bin)");
    List<Path> sources = kernelSources();
    assertFalse(sources.isEmpty());
    for (Path source : sources) {
      Process process = new ProcessBuilder(nvcc.get().toString(), "-arch=sm_90", "-c", "-o", "/dev/null",
          source.toString()).redirectErrorStream(true).start();
      String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, process.waitFor(), "nvcc rejected " + source + ":\n" + log);
    }
  }

  @Test
  void theClassPathCarriesEveryKernelSourceUnchanged() throws IOException {
    for (Path source : kernelSources()) {
      KernelSource loaded = KernelSource.load(source.getFileName().toString());
      assertEquals(Files.readString(source), loaded.text(), source.toString());
    }
  }

  private static List<Path> kernelSources() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("cuda-kernels"))) {
      return files.filter(f -> f.toString().endsWith(".cu")).sorted().toList();
    }
  }

  private static Optional<Path> findNvcc() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(":")) {
        Path candidate = Path.of(dir, "nvcc");
        if (!dir.isEmpty() && Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    Path usual = Path.of("/usr/local/cuda/bin/nvcc");
    return Files.isExecutable(usual) ? Optional.of(usual) : Optional.empty();
  }
}
