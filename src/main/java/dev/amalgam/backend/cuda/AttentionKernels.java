package dev.amalgam.backend.cuda;

import static dev.amalgam.cuda.KernelParam.FLOAT;
import static dev.amalgam.cuda.KernelParam.INT;
import static dev.amalgam.cuda.KernelParam.POINTER;

import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.cuda.LaunchGrid;
import java.util.List;

/**
 * Typed launchers of attention.cu over float32 KV caches [slots, maxPositions, kvDim]: each query row attends
 * to its slot's positions 0..its own, GQA-aware, never materializing the scores.
 */
public final class AttentionKernels {
  static final String FILE = "attention.cu";
  /** Warps per block of {@code attention_partial} ({@code ATTENTION_WARPS}). */
  static final int WARPS = 4;
  /** The largest head size handled ({@code MAX_HEAD_DIM}); head sizes must be multiples of 32. */
  static final int MAX_HEAD_DIM = 256;
  /** Query rows (one warp each) per block of {@code attention_prefill} ({@code PREFILL_ROWS}). */
  static final int PREFILL_ROWS = 8;
  /** Upper bound on the sequence splits of a decode step: the partials grow with it, and 32 fill a GPU from one row. */
  static final int MAX_SPLITS = 32;
  static final KernelSignature KV_STORE = KernelSignature.of(FILE, "kv_store", POINTER, POINTER, POINTER, POINTER,
      POINTER, POINTER, INT, INT, INT);
  static final KernelSignature PARTIAL = KernelSignature.of(FILE, "attention_partial", POINTER, POINTER, POINTER,
      POINTER, POINTER, POINTER, POINTER, INT, INT, INT, INT, FLOAT);
  static final KernelSignature COMBINE = KernelSignature.of(FILE, "attention_combine", POINTER, POINTER, POINTER,
      INT, INT, INT);
  static final KernelSignature PREFILL = KernelSignature.of(FILE, "attention_prefill", POINTER, POINTER, POINTER,
      POINTER, POINTER, POINTER, INT, INT, INT, INT, INT, FLOAT);
  static final List<KernelSignature> SIGNATURES = List.of(KV_STORE, PARTIAL, COMBINE, PREFILL);

  /** Shapes of one attention call: the heads, and the caches' positions per slot. */
  public record Heads(int numHeads, int numKvHeads, int headDim, int maxPositions) {
    public Heads {
      if (headDim % 32 != 0 || headDim > MAX_HEAD_DIM || numKvHeads < 1 || numHeads % numKvHeads != 0) {
        throw new IllegalArgumentException("the CUDA attention takes head sizes that are multiples of 32 up to "
            + MAX_HEAD_DIM + " and query heads in whole groups; got head_dim " + headDim + ", " + numHeads
            + " heads over " + numKvHeads + " KV heads");
      }
    }

    int kvDim() {
      return numKvHeads * headDim;
    }
  }

  private AttentionKernels() {}

  /** k and v [rows, kvDim] stored into the caches at each row's slot and position. */
  public static void kvStore(KernelLauncher k, long key, long value, long kCache, long vCache, long slots,
      long positions, int rows, Heads heads) {
    k.launch(KV_STORE, GridStride.over(k, (long) rows * heads.kvDim()), key, value, kCache, vCache, slots, positions,
        rows, heads.kvDim(), heads.maxPositions());
  }

  /**
   * Parts each decode row's positions are split into (flash decoding): enough blocks for a few per
   * multiprocessor even for one row and few heads, one part when the rows alone fill the GPU. It depends only
   * on shapes, never on the positions, so a recorded decode step always launches the same grid.
   */
  public static int decodeSplits(KernelLauncher k, int rows, Heads heads) {
    long wanted = 4L * k.multiprocessors();
    long perPart = (long) rows * heads.numHeads();
    long splits = (wanted + perPart - 1) / perPart;
    return (int) Math.max(1, Math.min(Math.min(splits, MAX_SPLITS), heads.maxPositions()));
  }

  /** Bytes of the temporaries {@link #decode} needs: each part's output row, maximum and sum. */
  public static long decodePartialBytes(int rows, Heads heads, int splits) {
    return 4L * rows * heads.numHeads() * splits * (heads.headDim() + 2);
  }

  /**
   * A decode step's attention, one row per slot: each of {@code splits} parts of the positions into
   * {@code partials} ({@link #decodePartialBytes} of them), then their merge into out [rows, numHeads · headDim].
   */
  public static void decode(KernelLauncher k, long q, long kCache, long vCache, long slots, long positions,
      long partials, long out, int rows, Heads heads, int splits, float scale) {
    long partialMl = partials + 4L * rows * heads.numHeads() * splits * heads.headDim();
    k.launch(PARTIAL, new LaunchGrid(rows, heads.numHeads(), splits, WARPS * 32), q, kCache, vCache, slots,
        positions, partials, partialMl, heads.numHeads(), heads.numKvHeads(), heads.headDim(), heads.maxPositions(),
        scale);
    k.launch(COMBINE, new LaunchGrid(rows, heads.numHeads(), 1, heads.headDim()), partials, partialMl, out,
        heads.numHeads(), heads.headDim(), splits);
  }

  /**
   * A prefill's attention, where rows share slots: {@link #PREFILL_ROWS} rows of one head per block read each
   * tile of keys and values once.
   */
  public static void prefill(KernelLauncher k, long q, long kCache, long vCache, long slots, long positions,
      long out, int rows, Heads heads, float scale) {
    int blocks = (rows + PREFILL_ROWS - 1) / PREFILL_ROWS;
    k.launch(PREFILL, new LaunchGrid(blocks, heads.numHeads(), 1, PREFILL_ROWS * 32), q, kCache, vCache, slots,
        positions, out, rows, heads.numHeads(), heads.numKvHeads(), heads.headDim(), heads.maxPositions(), scale);
  }
}
