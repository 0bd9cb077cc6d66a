package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.LONG;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.cuda.KernelDType;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.tensor.DType;
import java.util.List;

/** Typed launchers of elementwise.cu: float32 activations, bf16 weights, all grid-stride ({@link GridStride}). */
public final class ElementwiseKernels {
  static final String FILE = "elementwise.cu";
  static final KernelSignature EMBEDDING_GATHER = KernelSignature.of(FILE, "embedding_gather", POINTER, POINTER,
      POINTER, INT, INT);
  static final KernelSignature CONVERT_TO_BF16 = KernelSignature.of(FILE, "convert_to_bf16", POINTER, INT, POINTER,
      LONG);
  static final KernelSignature ADD_BIAS = KernelSignature.of(FILE, "add_bias", POINTER, POINTER, INT, INT);
  static final KernelSignature SILU_MUL = KernelSignature.of(FILE, "silu_mul", POINTER, POINTER, POINTER, LONG);
  static final KernelSignature ADD = KernelSignature.of(FILE, "add", POINTER, POINTER, POINTER, LONG);
  static final List<KernelSignature> SIGNATURES = List.of(EMBEDDING_GATHER, CONVERT_TO_BF16, ADD_BIAS, SILU_MUL, ADD);

  private ElementwiseKernels() {}

  /** out[r] = table[ids[r]] widened to float32: {@code table} bf16 [vocab, hidden], out [rows, hidden]. */
  public static void embeddingGather(KernelLauncher k, long table, long ids, long out, int rows, int hidden) {
    k.launch(EMBEDDING_GATHER, GridStride.over(k, (long) rows * hidden), table, ids, out, rows, hidden);
  }

  /** {@code count} elements of {@code sourceType} (F32, F16 or BF16) rounded to bf16, to nearest even. */
  public static void convertToBf16(KernelLauncher k, long source, DType sourceType, long target, long count) {
    k.launch(CONVERT_TO_BF16, GridStride.over(k, count), source, KernelDType.code(sourceType), target, count);
  }

  /** x [rows, features] += the bf16 bias, row by row. */
  public static void addBias(KernelLauncher k, long x, long bias, int rows, int features) {
    k.launch(ADD_BIAS, GridStride.over(k, (long) rows * features), x, bias, rows, features);
  }

  /** out = silu(gate) · up over {@code n} elements. */
  public static void siluMul(KernelLauncher k, long gate, long up, long out, long n) {
    k.launch(SILU_MUL, GridStride.over(k, n), gate, up, out, n);
  }

  /** out = a + b over {@code n} elements. */
  public static void add(KernelLauncher k, long a, long b, long out, long n) {
    k.launch(ADD, GridStride.over(k, n), a, b, out, n);
  }
}
