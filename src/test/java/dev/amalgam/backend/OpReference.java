package dev.amalgam.backend;

/**
 * The plain float64 reference of each {@link Backend} op and kernel, written once: the kernel emulation tests,
 * the GPU tests and {@link BackendConformance} all compare against these. Inputs are what the op reads (bf16
 * weights already widened to float32); the result is exact up to float64 rounding.
 */
public final class OpReference {
  private OpReference() {}

  /** out[r] = table[ids[r]]: table [vocab, hidden]. */
  public static double[] embedding(float[] table, int[] ids, int hidden) {
    double[] out = new double[ids.length * hidden];
    for (int r = 0; r < ids.length; r++) {
      for (int c = 0; c < hidden; c++) {
        out[r * hidden + c] = table[ids[r] * hidden + c];
      }
    }
    return out;
  }

  /** x / rms(x) · weight, row by row: x [rows, cols]. */
  public static double[] rmsNorm(float[] x, float[] weight, float eps) {
    int cols = weight.length;
    double[] out = new double[x.length];
    for (int row = 0; row < x.length / cols; row++) {
      double squares = 0;
      for (int c = 0; c < cols; c++) {
        squares += (double) x[row * cols + c] * x[row * cols + c];
      }
      double inverse = 1 / Math.sqrt(squares / cols + eps);
      for (int c = 0; c < cols; c++) {
        out[row * cols + c] = weight[c] * (x[row * cols + c] * inverse);
      }
    }
    return out;
  }

  /** x · weightᵀ + bias (none when null): x [rows, in], weight [out, in]. */
  public static double[] linear(float[] x, float[] weight, float[] bias, int in) {
    int rows = x.length / in;
    int features = weight.length / in;
    double[] out = new double[rows * features];
    for (int t = 0; t < rows; t++) {
      for (int o = 0; o < features; o++) {
        double sum = bias == null ? 0 : bias[o];
        for (int i = 0; i < in; i++) {
          sum += (double) x[t * in + i] * weight[o * in + i];
        }
        out[t * features + o] = sum;
      }
    }
    return out;
  }

  public static double silu(double x) {
    return x / (1 + Math.exp(-x));
  }

  /** silu(gate) · up, elementwise. */
  public static double[] siluMul(float[] gate, float[] up) {
    double[] out = new double[gate.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = silu(gate[i]) * up[i];
    }
    return out;
  }

  /** silu(gate) · up of two float64 projections, as the fused SwiGLU computes it from them. */
  public static double[] siluMul(double[] gate, double[] up) {
    double[] out = new double[gate.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = silu(gate[i]) * up[i];
    }
    return out;
  }

  /**
   * x [rows, heads · headDim] with each head rotated by its row's position, NeoX half-split as HF's Qwen2 and
   * Llama. The angle is the float32 product position · invFreq, as every implementation computes it.
   */
  public static double[] rope(float[] x, int[] positions, float[] invFreq, int headDim) {
    int half = headDim / 2;
    int heads = x.length / positions.length / headDim;
    double[] out = new double[x.length];
    for (int t = 0; t < positions.length; t++) {
      for (int h = 0; h < heads; h++) {
        int base = (t * heads + h) * headDim;
        for (int i = 0; i < half; i++) {
          double angle = (float) positions[t] * invFreq[i];
          double x1 = x[base + i];
          double x2 = x[base + i + half];
          out[base + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          out[base + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
      }
    }
    return out;
  }

  /** The head shapes of an attention call and the positions its caches hold per slot. */
  public record Heads(int numHeads, int numKvHeads, int headDim, int maxPositions) {
    int kvDim() {
      return numKvHeads * headDim;
    }
  }

  /**
   * Causal grouped-query attention over float32 caches [slots, maxPositions, kvDim]: each row's query heads
   * attend to its slot's positions 0..its own, softmax(q·k · scale)·v.
   */
  public static double[] attention(float[] q, float[] kCache, float[] vCache, int[] slots, int[] positions,
      Heads heads, float scale) {
    int headDim = heads.headDim();
    int kvDim = heads.kvDim();
    int group = heads.numHeads() / heads.numKvHeads();
    double[] out = new double[slots.length * heads.numHeads() * headDim];
    for (int t = 0; t < slots.length; t++) {
      for (int h = 0; h < heads.numHeads(); h++) {
        int kvOffset = h / group * headDim;
        int query = (t * heads.numHeads() + h) * headDim;
        int length = positions[t] + 1;
        double[] weights = new double[length];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < length; j++) {
          int key = (slots[t] * heads.maxPositions() + j) * kvDim + kvOffset;
          double dot = 0;
          for (int d = 0; d < headDim; d++) {
            dot += (double) q[query + d] * kCache[key + d];
          }
          weights[j] = dot * scale;
          max = Math.max(max, weights[j]);
        }
        double total = 0;
        for (int j = 0; j < length; j++) {
          weights[j] = Math.exp(weights[j] - max);
          total += weights[j];
        }
        for (int d = 0; d < headDim; d++) {
          double sum = 0;
          for (int j = 0; j < length; j++) {
            sum += weights[j] * vCache[(slots[t] * heads.maxPositions() + j) * kvDim + kvOffset + d];
          }
          out[query + d] = sum / total;
        }
      }
    }
    return out;
  }
}
