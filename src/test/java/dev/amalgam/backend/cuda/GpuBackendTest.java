package dev.amalgam.backend.cuda;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The base of the CUDA backend's GPU tests: each test class gets its own context and backend, with kernels
 * compiled into a fresh cache so that NVRTC itself is exercised.
 */
@Tag("gpu")
abstract class GpuBackendTest {
  static CudaContext context;
  static CudaBackend backend;

  @BeforeAll
  static void openBackend() throws Exception {
    context = CudaContext.open(0);
    backend = CudaBackend.on(context, new KernelCompiler(new KernelCache(Files.createTempDirectory("amalgam-cubin"))));
  }

  @AfterAll
  static void closeBackend() {
    if (backend != null) {
      backend.close();
      backend = null;
    }
    if (context != null) {
      context.close();
      context = null;
    }
  }
}
