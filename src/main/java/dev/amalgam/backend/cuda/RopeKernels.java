package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import java.util.List;

/** Typed launchers of rope.cu, grid-stride over (row, head, pair) ({@link GridStride}). */
public final class RopeKernels {
  static final String FILE = "rope.cu";
  static final KernelSignature ROPE = KernelSignature.of(FILE, "rope", POINTER, POINTER, POINTER, INT, INT, INT);
  static final KernelSignature ROPE_KV_STORE = KernelSignature.of(FILE, "rope_kv_store", POINTER, POINTER, POINTER,
      POINTER, POINTER, POINTER, POINTER, POINTER, INT, INT, INT, INT, INT);
  static final List<KernelSignature> SIGNATURES = List.of(ROPE, ROPE_KV_STORE);

  private RopeKernels() {}

  /** Rotates x [rows, heads · headDim] in place by each row's position, NeoX half-split as HF's Qwen2 and Llama. */
  public static void rope(KernelLauncher k, long x, long positions, long invFreq, int rows, int heads, int headDim) {
    k.launch(ROPE, GridStride.over(k, (long) rows * heads * (headDim / 2)), x, positions, invFreq, rows, heads,
        headDim);
  }

  /**
   * RoPE of q and k in place, then k and v stored into the float32 caches [slots, maxPositions, kvDim] at each
   * row's slot and position: one launch for what {@link #rope} twice and {@code kv_store} do.
   */
  public static void ropeKvStore(KernelLauncher k, long q, long key, long value, long kCache, long vCache,
      long slots, long positions, long invFreq, int rows, int numHeads, int numKvHeads, int headDim,
      int maxPositions) {
    k.launch(ROPE_KV_STORE, GridStride.over(k, (long) rows * (numHeads + numKvHeads) * (headDim / 2)), q, key,
        value, kCache, vCache, slots, positions, invFreq, rows, numHeads, numKvHeads, headDim, maxPositions);
  }
}
