package dev.amalgam.merge;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The base of the GPU tests that merge the tiny example models: one context per test class, kernels compiled
 * into a fresh cache, the two inputs and their exact linear merge (the oracle).
 */
@Tag("gpu")
abstract class TinyMergeGpuTest {
  static CudaContext context;
  static KernelCompiler compiler;
  static ModelDirectory a;
  static ModelDirectory b;
  static ModelDirectory merged;

  @BeforeAll
  static void open() throws Exception {
    context = CudaContext.open(0);
    compiler = new KernelCompiler(new KernelCache(Files.createTempDirectory("amalgam-cubin")));
    a = ModelDirectory.open(Fixtures.A);
    b = ModelDirectory.open(Fixtures.B);
    merged = ModelDirectory.open(Fixtures.MERGED);
  }

  @AfterAll
  static void close() {
    a.close();
    b.close();
    merged.close();
    context.close();
  }

  /** An input tensor's bytes, from whichever of the two models holds it. */
  static ByteBuffer map(TensorInfo info) {
    return (info.file().startsWith(a.dir()) ? a : b).map(info);
  }
}
