package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;

/**
 * The CPU arithmetic of a linear-family merge: {@code acc = x₀·w₀; acc += xᵢ·wᵢ ...; acc /= divisor}, all in
 * float32 (Java never fuses into FMA), then one rounding to the output type. For task vectors input 0 is the
 * base b: {@code acc = w₁·(x₁ − b); acc += wᵢ·(xᵢ − b) ...; acc /= divisor; acc *= λ; out = b + acc}, mergekit's
 * order. The CUDA kernel uses the same order with non-contracting intrinsics, so both produce the same bits.
 *
 * <p>Work goes in blocks: bulk copies out of the mapped inputs into arrays, then simple array loops the JIT
 * can vectorize. Element-wise ByteBuffer access was 3–4x slower.
 */
public final class LinearKernel {
  static final int BLOCK = 8192;

  private final short[] halves = new short[BLOCK];
  private final float[] floats = new float[BLOCK];
  private final float[] acc = new float[BLOCK];
  private final float[] base = new float[BLOCK];
  /** mergekit's floor on SCE's divisor. */
  private static final float SCE_MIN_DIVISOR = 1e-6f;

  /** Per input, its thinned task vector over the block, and that times its weight; made on first use. */
  private final float[][] deltas = new float[MergeKernelArgs.MAX_INPUTS][];
  private final float[][] weighted = new float[MergeKernelArgs.MAX_INPUTS][];
  /** The sign election's sum, then the elected sign bit, per element of the block. */
  private final float[] sums = new float[BLOCK];
  private final int[] elected = new int[BLOCK];
  private final float[] divisors = new float[BLOCK];
  private final short[] rounded = new short[BLOCK];
  private final float[] elementWeights = new float[BLOCK];

  /**
   * Merges elements {@code [from, to)} of the inputs into {@code out}, element {@code from} going to the start
   * of {@code out}. All buffers must be little-endian; they are only read and written by absolute index, so
   * threads may share the inputs. One instance per thread.
   */
  public void run(ByteBuffer[] inputs, DType[] inputTypes, float[] weights, float divisor,
      ByteBuffer out, DType outType, long from, long to) {
    run(inputs, inputTypes, weights, divisor, false, 1f, null, null, null, out, outType, from, to);
  }

  /**
   * As above; with {@code taskVectors}, input 0 is the base, each task vector is thinned by {@code thinning}
   * (null keeps it whole) and {@code lambda} scales the combined deltas. With {@code segmentWeights} (null for
   * none), each element's weights are its segment's ({@link RuleStatistics#weights}), not {@code weights}. With a
   * {@code rounding} dtype (null for none), mergekit's arithmetic: the inputs, the weights and each operation's
   * result are rounded to it, the sum accumulating in float32 ({@link WorkRounding}); {@code divisor} is then the
   * rounded one ({@link PlannedTensor#divisor}).
   */
  void run(ByteBuffer[] inputs, DType[] inputTypes, float[] weights, float divisor, boolean taskVectors,
      float lambda, TaskVectorThinning thinning, RuleStatistics segmentWeights, DType rounding, ByteBuffer out,
      DType outType, long from, long to) {
    int firstSummed = taskVectors ? 1 : 0;
    for (long start = from; start < to; start += BLOCK) {
      int offset = Math.toIntExact(start);
      int n = (int) Math.min(BLOCK, to - start);
      if (taskVectors) {
        load(inputs[0], inputTypes[0], offset, n);
        WorkRounding.round(floats, n, rounding);
        System.arraycopy(floats, 0, base, 0, n);
      }
      for (int m = firstSummed; m < inputs.length; m++) {
        load(inputs[m], inputTypes[m], offset, n);
        WorkRounding.round(floats, n, rounding);
        if (taskVectors) {
          for (int i = 0; i < n; i++) {
            floats[i] = floats[i] - base[i];
          }
          WorkRounding.round(floats, n, rounding);
          if (thinning != null) {
            thinning.thin(m, start, floats, n);
            WorkRounding.round(floats, n, rounding);
          }
        }
        if (segmentWeights != null) {
          segmentWeights.weights(start, n, m, elementWeights);
        }
        if (rounding == null) {
          if (segmentWeights == null) {
            accumulate(m == firstSummed, weights[m], n);
          } else {
            accumulateEach(m == firstSummed, n);
          }
        } else {
          // Each product rounded on its own, then summed in float32.
          float w = WorkRounding.round(weights[m], rounding);
          for (int i = 0; i < n; i++) {
            floats[i] = floats[i] * (segmentWeights == null ? w : WorkRounding.round(elementWeights[i], rounding));
          }
          WorkRounding.round(floats, n, rounding);
          accumulate(m == firstSummed, 1f, n);
        }
      }
      WorkRounding.round(acc, n, rounding);
      if (divisor != 1f) {
        for (int i = 0; i < n; i++) {
          acc[i] = acc[i] / divisor;
        }
        WorkRounding.round(acc, n, rounding);
      }
      if (taskVectors) {
        if (lambda != 1f) {
          // torch (as mergekit ran it) casts a Python scalar to the tensor's dtype before multiplying.
          float scale = WorkRounding.round(lambda, rounding);
          for (int i = 0; i < n; i++) {
            acc[i] = acc[i] * scale;
          }
          WorkRounding.round(acc, n, rounding);
        }
        for (int i = 0; i < n; i++) {
          acc[i] = base[i] + acc[i];
        }
        WorkRounding.round(acc, n, rounding);
      }
      store(out, outType, offset - (int) from, n);
    }
  }

  /**
   * Task vectors over the base (input 0) with TIES' sign election, in mergekit's order: {@code wd = w·(x − b)};
   * {@code s = Σ wd}; the elected sign is + where {@code s ≥ 0}; {@code acc = Σ wd·[sign(wd) = elected]},
   * {@code div = Σ w·[sign(wd) = elected]} (1 where 0); then {@code acc / div} when normalizing, times λ, plus b.
   * A masked-out term is multiplied by 0, not skipped, so signed zeros come out as in torch. Before weighting,
   * each task vector is thinned by {@code thinning} (null keeps it whole), as mergekit's sparsifiers do.
   *
   * <p>With a {@code rounding} dtype, mergekit's arithmetic, as in {@link #run}.
   *
   * <p>With {@code sce}, SCE's variant: an element is kept in every task vector only where the bit pattern of
   * its variance across them ({@link TensorStatistics#selectByVariance}) is at least {@code varianceCut}; the sign is
   * elected by {@code Σ δ} and agreement read from δ, unweighted; and the divisor is {@code max(div, 1e-6)}.
   */
  void runWithConsensus(ByteBuffer[] inputs, DType[] inputTypes, float[] weights, TaskVectorThinning thinning,
      boolean sce, int varianceCut, boolean normalize, float lambda, DType rounding, ByteBuffer out, DType outType,
      long from, long to) {
    int count = inputs.length;
    // Loops run over the block, one input at a time, so that the JIT can vectorize them.
    for (long start = from; start < to; start += BLOCK) {
      int offset = Math.toIntExact(start);
      int n = (int) Math.min(BLOCK, to - start);
      load(inputs[0], inputTypes[0], offset, n);
      WorkRounding.round(floats, n, rounding);
      System.arraycopy(floats, 0, base, 0, n);
      for (int m = 1; m < count; m++) {
        load(inputs[m], inputTypes[m], offset, n);
        WorkRounding.round(floats, n, rounding);
        float[] d = block(deltas, m);
        for (int i = 0; i < n; i++) {
          d[i] = floats[i] - base[i];
        }
        WorkRounding.round(d, n, rounding);
        if (thinning != null) {
          thinning.thin(m, start, d, n);
          WorkRounding.round(d, n, rounding);
        }
      }
      if (sce) {
        TensorStatistics.selectByVariance(deltas, count, n, varianceCut, sums, divisors);
        for (int m = 1; m < count; m++) {
          float[] d = deltas[m];
          for (int i = 0; i < n; i++) {
            d[i] = d[i] * sums[i];  // sums holds the selection here, before the election reuses it
          }
        }
      }
      for (int m = 1; m < count; m++) {
        float[] d = deltas[m];
        float[] wd = block(weighted, m);
        float w = WorkRounding.round(weights[m], rounding);
        for (int i = 0; i < n; i++) {
          wd[i] = d[i] * w;
        }
        WorkRounding.round(wd, n, rounding);
      }
      float[][] votes = sce ? deltas : weighted;
      System.arraycopy(votes[1], 0, sums, 0, n);
      for (int m = 2; m < count; m++) {
        float[] v = votes[m];
        for (int i = 0; i < n; i++) {
          sums[i] = sums[i] + v[i];
        }
      }
      WorkRounding.round(sums, n, rounding);
      for (int i = 0; i < n; i++) {
        elected[i] = electedSignBit(sums[i]);
      }
      for (int m = 1; m < count; m++) {
        float[] v = votes[m];
        float[] wd = weighted[m];
        float w = WorkRounding.round(weights[m], rounding);
        if (m == 1) {
          for (int i = 0; i < n; i++) {
            float agrees = agreement(v[i], elected[i]);
            acc[i] = wd[i] * agrees;
            divisors[i] = w * agrees;
          }
        } else {
          for (int i = 0; i < n; i++) {
            float agrees = agreement(v[i], elected[i]);
            acc[i] = acc[i] + wd[i] * agrees;
            divisors[i] = divisors[i] + w * agrees;
          }
        }
      }
      WorkRounding.round(acc, n, rounding);
      WorkRounding.round(divisors, n, rounding);
      if (sce) {
        // Not Math.max, which the kernel's fmaxf would not match on NaN: torch's clamp keeps a NaN.
        for (int i = 0; i < n; i++) {
          acc[i] = acc[i] / (divisors[i] < SCE_MIN_DIVISOR ? SCE_MIN_DIVISOR : divisors[i]);
        }
      } else if (normalize) {
        for (int i = 0; i < n; i++) {
          acc[i] = acc[i] / (divisors[i] == 0f ? 1f : divisors[i]);
        }
      }
      WorkRounding.round(acc, n, rounding);
      if (lambda != 1f) {
        float scale = WorkRounding.round(lambda, rounding);
        for (int i = 0; i < n; i++) {
          acc[i] = acc[i] * scale;
        }
        WorkRounding.round(acc, n, rounding);
      }
      for (int i = 0; i < n; i++) {
        acc[i] = base[i] + acc[i];
      }
      WorkRounding.round(acc, n, rounding);
      store(out, outType, offset - (int) from, n);
    }
  }

  /**
   * The elected sign of a sign election's sum, as a sign bit (0 for +, 0x80000000 for −): + where the sum is at
   * least 0 (−0 included), − below 0 or NaN. In integer arithmetic, without branches: signs are random, and
   * mispredicted branches made the election most of a TIES merge's time.
   */
  static int electedSignBit(float sum) {
    int bits = Float.floatToRawIntBits(sum);
    int magnitude = bits & 0x7FFF_FFFF;
    int nan = (0x7F80_0000 - magnitude) >>> 31;
    int negative = (bits >>> 31) & (-magnitude >>> 31);
    return (nan | negative) << 31;
  }

  /** 1 where {@code vote} has the elected sign ({@link #electedSignBit}), else 0: zero and NaN never agree. */
  static float agreement(float vote, int electedSign) {
    int bits = Float.floatToRawIntBits(vote);
    int magnitude = bits & 0x7FFF_FFFF;
    int nonzero = -magnitude >>> 31;
    int notNaN = (magnitude - 0x7F80_0001) >>> 31;
    int sameSign = ((bits ^ electedSign) >>> 31) ^ 1;
    return nonzero & notNaN & sameSign;
  }

  /** Row {@code m} of a per-input block array, made on first use. */
  private static float[] block(float[][] rows, int m) {
    return rows[m] == null ? (rows[m] = new float[BLOCK]) : rows[m];
  }

  private void load(ByteBuffer buffer, DType type, int offset, int n) {
    TaskVectorView.values(buffer, type, offset, n, floats, halves);
  }

  private void accumulate(boolean first, float weight, int n) {
    if (first) {
      for (int i = 0; i < n; i++) {
        acc[i] = floats[i] * weight;
      }
    } else {
      for (int i = 0; i < n; i++) {
        acc[i] = acc[i] + floats[i] * weight;
      }
    }
  }

  /** {@link #accumulate} with a weight per element, from {@code elementWeights}. */
  private void accumulateEach(boolean first, int n) {
    if (first) {
      for (int i = 0; i < n; i++) {
        acc[i] = floats[i] * elementWeights[i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        acc[i] = acc[i] + floats[i] * elementWeights[i];
      }
    }
  }

  private void store(ByteBuffer buffer, DType type, int offset, int n) {
    store(buffer, type, offset, n, acc, rounded);
  }

  /** Rounds {@code values[0, n)} once to {@code type} into {@code buffer} from element {@code offset}. */
  static void store(ByteBuffer buffer, DType type, int offset, int n, float[] values, short[] rounded) {
    switch (type) {
      case BF16 -> {
        // FloatBits.floatToBf16 written without a branch, which lets the JIT vectorize the loop.
        for (int i = 0; i < n; i++) {
          int bits = Float.floatToRawIntBits(values[i]);
          int nearestEven = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
          int quietNaN = (bits >>> 16) | 0x40;
          rounded[i] = (short) ((bits & 0x7fffffff) > 0x7f800000 ? quietNaN : nearestEven);
        }
        buffer.asShortBuffer().put(offset, rounded, 0, n);
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          rounded[i] = FloatBits.floatToF16(values[i]);
        }
        buffer.asShortBuffer().put(offset, rounded, 0, n);
      }
      case F32 -> buffer.asFloatBuffer().put(offset, values, 0, n);
      default -> throw new IllegalArgumentException("not a merge output type: " + type);
    }
  }
}
