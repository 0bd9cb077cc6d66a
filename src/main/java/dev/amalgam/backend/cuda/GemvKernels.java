package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LaunchGrid;
import java.util.List;

/**
 * Typed launchers of gemv.cu: decode-shaped linear layers (at most {@link #MAX_ROWS} rows of float32 input,
 * rounded to bf16 as cuBLAS would, times bf16 weights), one warp per output feature, {@link #WARPS} per block.
 */
public final class GemvKernels {
  static final String FILE = "gemv.cu";
  /** Warps per block, one output feature each ({@code GEMV_WARPS}). */
  static final int WARPS = 8;
  /** The most activation rows the kernels take ({@code GEMV_MAX_ROWS}); more go to cuBLAS. */
  static final int MAX_ROWS = 8;
  /** The most layers of one input {@code gemv_bf16} computes in one launch. */
  static final int MAX_LAYERS = 3;
  static final KernelSignature GEMV = KernelSignature.of(FILE, "gemv_bf16", POINTER, INT, INT,
      POINTER, POINTER, POINTER, INT, POINTER, POINTER, POINTER, INT, POINTER, POINTER, POINTER, INT);
  static final KernelSignature GEMV_SWIGLU = KernelSignature.of(FILE, "gemv_bf16_swiglu", POINTER, POINTER,
      POINTER, POINTER, POINTER, POINTER, INT, INT, INT);
  static final List<KernelSignature> SIGNATURES = List.of(GEMV, GEMV_SWIGLU);

  /** One linear layer: bf16 weight [features, in], optional bf16 bias (0 for none), float32 out [rows, features]. */
  public record Layer(long weight, long bias, long out, int features) {}

  private GemvKernels() {}

  /** Whether an input of {@code rows} × {@code in} takes the gemv path: few rows, and 16-byte weight rows. */
  public static boolean fits(int rows, int in) {
    return rows <= MAX_ROWS && in % 8 == 0;
  }

  /** Each layer's out = x · weightᵀ + bias, all of them in one launch. */
  public static void gemv(KernelLauncher k, long x, int rows, int in, List<Layer> layers) {
    if (layers.isEmpty() || layers.size() > MAX_LAYERS || !fits(rows, in)) {
      throw new IllegalArgumentException("gemv_bf16 takes 1 to " + MAX_LAYERS + " layers of up to " + MAX_ROWS
          + " rows of a multiple of 8, not " + layers.size() + " of " + rows + " × " + in);
    }
    Object[] args = new Object[3 + 4 * MAX_LAYERS];
    args[0] = x;
    args[1] = rows;
    args[2] = in;
    int features = 0;
    for (int i = 0; i < MAX_LAYERS; i++) {
      Layer layer = i < layers.size() ? layers.get(i) : new Layer(0L, 0L, 0L, 0);
      args[3 + 4 * i] = layer.weight();
      args[4 + 4 * i] = layer.bias();
      args[5 + 4 * i] = layer.out();
      args[6 + 4 * i] = layer.features();
      features += layer.features();
    }
    k.launch(GEMV, LaunchGrid.of(blocks(features), WARPS * 32), args);
  }

  /** out = silu(x · gateᵀ + gateBias) · (x · upᵀ + upBias); neither projection is written out. */
  public static void swiglu(KernelLauncher k, long x, Layer gate, long up, long upBias, int rows, int in) {
    if (!fits(rows, in)) {
      throw new IllegalArgumentException("gemv_bf16_swiglu takes up to " + MAX_ROWS + " rows of a multiple of 8");
    }
    k.launch(GEMV_SWIGLU, LaunchGrid.of(blocks(gate.features()), WARPS * 32), x, gate.weight(), gate.bias(), up,
        upBias, gate.out(), rows, in, gate.features());
  }

  private static int blocks(int features) {
    return Math.max(1, (features + WARPS - 1) / WARPS);
  }
}
