package dev.amalgam.backend.cuda;

import static dev.amalgam.backend.cuda.KernelParam.FLOAT;
import static dev.amalgam.backend.cuda.KernelParam.INT;
import static dev.amalgam.backend.cuda.KernelParam.LONG;
import static dev.amalgam.backend.cuda.KernelParam.POINTER;

import dev.amalgam.tensor.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernels of the CUDA generation backend: every {@code extern "C"} function of {@code elementwise.cu},
 * {@code norm.cu}, {@code gemv.cu}, {@code rope.cu}, {@code attention.cu} and {@code sample.cu}, compiled with
 * NVRTC (or taken from the kernel cache) and loaded into the current context. The signatures and launch
 * constants below are the Java half of a contract with those files; {@code GenerationKernelsTest} parses the
 * .cu files and checks both halves agree.
 */
public final class GenerationKernels implements AutoCloseable {
  /** Threads per block of {@code rms_norm} ({@code NORM_THREADS}). */
  public static final int NORM_THREADS = 256;
  /** Warps per block of {@code attention_partial} ({@code ATTENTION_WARPS}). */
  public static final int ATTENTION_WARPS = 4;
  /** The largest head size {@code attention_partial} handles ({@code MAX_HEAD_DIM}); it must be a multiple of 32. */
  public static final int MAX_HEAD_DIM = 256;
  /** Rows (one warp each) per block of {@code attention_prefill} ({@code PREFILL_ROWS}). */
  public static final int PREFILL_ROWS = 8;
  /** Threads per block (one block per row) of {@code sample_rows} ({@code SAMPLE_THREADS}). */
  public static final int SAMPLE_THREADS = 1024;
  /** Warps per block of {@code gemv_bf16}, one output feature each ({@code GEMV_WARPS}). */
  public static final int GEMV_WARPS = 8;
  /** The most activation rows {@code gemv_bf16} takes ({@code GEMV_MAX_ROWS}); more go to cuBLAS. */
  public static final int GEMV_MAX_ROWS = 8;

  public static final List<KernelSignature> SIGNATURES = List.of(
      KernelSignature.of("elementwise.cu", "embedding_gather", POINTER, POINTER, POINTER, INT, INT),
      KernelSignature.of("elementwise.cu", "convert_to_bf16", POINTER, INT, POINTER, LONG),
      KernelSignature.of("elementwise.cu", "add_bias", POINTER, POINTER, INT, INT),
      KernelSignature.of("elementwise.cu", "silu_mul", POINTER, POINTER, POINTER, LONG),
      KernelSignature.of("elementwise.cu", "add", POINTER, POINTER, POINTER, LONG),
      KernelSignature.of("norm.cu", "rms_norm", POINTER, POINTER, POINTER, FLOAT, INT),
      KernelSignature.of("norm.cu", "add_rms_norm", POINTER, POINTER, POINTER, POINTER, FLOAT, INT),
      KernelSignature.of("gemv.cu", "gemv_bf16", POINTER, INT, INT, POINTER, POINTER, POINTER, INT, POINTER,
          POINTER, POINTER, INT, POINTER, POINTER, POINTER, INT),
      KernelSignature.of("gemv.cu", "gemv_bf16_swiglu", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, INT,
          INT, INT),
      KernelSignature.of("rope.cu", "rope", POINTER, POINTER, POINTER, INT, INT, INT),
      KernelSignature.of("rope.cu", "rope_kv_store", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER,
          POINTER, INT, INT, INT, INT, INT),
      KernelSignature.of("attention.cu", "kv_store", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, INT, INT,
          INT),
      KernelSignature.of("attention.cu", "attention_partial", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER,
          POINTER, INT, INT, INT, INT, FLOAT),
      KernelSignature.of("attention.cu", "attention_combine", POINTER, POINTER, POINTER, INT, INT, INT),
      KernelSignature.of("attention.cu", "attention_prefill", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER,
          INT, INT, INT, INT, INT, FLOAT),
      KernelSignature.of("sample.cu", "sample_rows", POINTER, POINTER, POINTER, POINTER, POINTER, POINTER, POINTER,
          INT, FLOAT, INT, FLOAT, FLOAT, FLOAT));

  /**
   * NVRTC options per file. The sampler must round like the Java reference, so no FMA contraction there; the
   * others keep NVRTC's defaults (FMA on, IEEE division and square root, no flush to zero).
   */
  static List<String> optionsFor(String file) {
    return file.equals("sample.cu") ? List.of("--fmad=false") : List.of();
  }

  private final List<CudaModule> modules = new ArrayList<>();
  private final Map<String, CudaKernel> kernels = new LinkedHashMap<>();

  private GenerationKernels() {}

  /** Compiles (or reads from the cache) and loads every generation kernel into the current context. */
  public static GenerationKernels load(CudaContext context, KernelCompiler compiler) {
    GenerationKernels loaded = new GenerationKernels();
    try {
      Map<String, CudaModule> byFile = new LinkedHashMap<>();
      for (KernelSignature signature : SIGNATURES) {
        CudaModule module = byFile.get(signature.file());
        if (module == null) {
          module = compiler.load(KernelSource.load(signature.file()), context.device(), optionsFor(signature.file()));
          byFile.put(signature.file(), module);
          loaded.modules.add(module);
        }
        loaded.kernels.put(signature.name(), new CudaKernel(signature, module.function(signature.name())));
      }
      return loaded;
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    }
  }

  public CudaKernel get(String name) {
    CudaKernel kernel = kernels.get(name);
    if (kernel == null) {
      throw new IllegalArgumentException("no generation kernel " + name);
    }
    return kernel;
  }

  /** The element type codes of elementwise.cu ({@code AMALGAM_F32} ...), the same numbers as merge.cu. */
  static int dtypeCode(DType type) {
    return MergeKernelArgs.dtypeCode(type);
  }

  @Override
  public void close() {
    kernels.values().forEach(CudaKernel::close);
    kernels.clear();
    modules.forEach(CudaModule::close);
    modules.clear();
  }
}
