package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NVRTC to CUBIN on the GPU at hand, the on-disk cache, and the errors a user sees when either fails. */
@Tag("gpu")
class KernelCompilerGpuTest {
  private static final List<String> OPTIONS = List.of("--fmad=false");
  private static CudaContext context;

  @TempDir Path cacheDir;

  @BeforeAll
  static void open() {
    context = CudaContext.open(0);
  }

  @AfterAll
  static void close() {
    context.close();
  }

  @Test
  void compilesToCubinOnceThenReadsTheCache() throws IOException {
    KernelCompiler compiler = new KernelCompiler(new KernelCache(cacheDir));
    KernelSource source = KernelSource.load("merge.cu");
    byte[] first = compiler.cubin(source, context.device(), OPTIONS);
    assertEquals(0x7f, first[0]);
    assertEquals('E', first[1]);
    List<Path> files = cacheFiles();
    assertEquals(1, files.size());
    assertArrayEquals(first, Files.readAllBytes(files.get(0)));

    // A planted image under the same key proves the second call reads the cache instead of compiling.
    byte[] planted = {0x7f, 'E', 'L', 'F', 1, 2, 3};
    Files.write(files.get(0), planted);
    assertArrayEquals(planted, compiler.cubin(source, context.device(), OPTIONS));

    Files.write(files.get(0), first);
    try (CudaModule module = compiler.load(source, context.device(), OPTIONS)) {
      module.function("merge_weighted_sum");
    }
  }

  @Test
  void aCompileErrorShowsTheNvrtcLog() {
    KernelCompiler compiler = new KernelCompiler(new KernelCache(cacheDir));
    KernelSource broken = new KernelSource("broken.cu", "extern \"C\" __global__ void k() { undeclared_thing(); }");
    CudaException error = assertThrows(CudaException.class,
        () -> compiler.cubin(broken, context.device(), List.of()));
    assertTrue(error.getMessage().startsWith("NVRTC could not compile broken.cu"), error.getMessage());
    assertTrue(error.getMessage().contains("undeclared_thing"), error.getMessage());
  }

  @Test
  void driverErrorsNameTheCallAndTheError() {
    CudaException error = assertThrows(CudaException.class, () -> CudaException.check(
        org.bytedeco.cuda.global.cudart.cuMemFree(1L), "cuMemFree"));
    assertTrue(error.getMessage().matches("cuMemFree failed: CUDA_ERROR_\\w+ \\(.+\\)"), error.getMessage());
  }

  private List<Path> cacheFiles() throws IOException {
    try (Stream<Path> files = Files.list(cacheDir)) {
      return files.toList();
    }
  }
}
