package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.FLOAT;
import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LaunchGrid;
import java.util.List;

/** Typed launchers of norm.cu: one block of {@link #THREADS} per row. */
public final class NormKernels {
  static final String FILE = "norm.cu";
  /** Threads per block ({@code NORM_THREADS}). */
  static final int THREADS = 256;
  static final KernelSignature RMS_NORM = KernelSignature.of(FILE, "rms_norm", POINTER, POINTER, POINTER, FLOAT, INT);
  static final KernelSignature ADD_RMS_NORM = KernelSignature.of(FILE, "add_rms_norm", POINTER, POINTER, POINTER,
      POINTER, FLOAT, INT);
  static final List<KernelSignature> SIGNATURES = List.of(RMS_NORM, ADD_RMS_NORM);

  private NormKernels() {}

  /** out = x / rms(x) · weight, row by row: x and out float32 [rows, cols], weight bf16 [cols]. */
  public static void rmsNorm(KernelLauncher k, long x, long weight, long out, float eps, int rows, int cols) {
    k.launch(RMS_NORM, LaunchGrid.of(rows, THREADS), x, weight, out, eps, cols);
  }

  /** residual += delta, then out = rmsNorm(residual): the residual add fused into the next norm. */
  public static void addRmsNorm(KernelLauncher k, long residual, long delta, long weight, long out, float eps,
      int rows, int cols) {
    k.launch(ADD_RMS_NORM, LaunchGrid.of(rows, THREADS), residual, delta, weight, out, eps, cols);
  }
}
