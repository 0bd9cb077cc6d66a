package dev.amalgam.backend.cuda;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LoadedKernels;
import java.util.List;
import java.util.stream.Stream;

/**
 * The kernels of the CUDA generation backend: every {@code extern "C"} function of {@code elementwise.cu},
 * {@code norm.cu}, {@code gemv.cu}, {@code rope.cu}, {@code attention.cu} and {@code sample.cu}, launched through
 * their typed launchers ({@link NormKernels} and the rest). The signatures and launch constants there are the
 * Java half of a contract with those files; {@code GenerationKernelsTest} parses the .cu files and checks both
 * halves agree.
 */
public final class GenerationKernels {
  public static final List<KernelSignature> SIGNATURES = Stream.of(ElementwiseKernels.SIGNATURES,
      NormKernels.SIGNATURES, GemvKernels.SIGNATURES, RopeKernels.SIGNATURES, AttentionKernels.SIGNATURES,
      SampleKernels.SIGNATURES).flatMap(List::stream).toList();

  private GenerationKernels() {}

  /**
   * NVRTC options per file. The sampler must round like the Java reference, so no FMA contraction there; the
   * others keep NVRTC's defaults (FMA on, IEEE division and square root, no flush to zero).
   */
  static List<String> optionsFor(String file) {
    return file.equals(SampleKernels.FILE) ? List.of("--fmad=false") : List.of();
  }

  /** Compiles (or reads from the cache) and loads every generation kernel into the current context. */
  public static LoadedKernels load(CudaContext context, KernelCompiler compiler) {
    return LoadedKernels.load(context, compiler, SIGNATURES, GenerationKernels::optionsFor);
  }
}
