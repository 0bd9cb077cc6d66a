package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;

/**
 * Where TIES cuts each task vector: for input i ≥ 1 of a tensor with task vectors and a density below 1, the
 * smallest magnitude kept, as the bit pattern of {@code |xᵢ − base|} in float32, so that {@code k = ⌊density·n⌋}
 * elements have a magnitude at or above it. Found by radix selection over those bit patterns (a histogram of the
 * high 16 bits, then of the low 16 bits inside the chosen bin), two passes over the inputs and no sorted copy.
 *
 * <p>Ties at the cut: mergekit keeps exactly k, chosen by an unstable argsort; amalgam keeps every element whose
 * magnitude equals the cut as well, a rule that does not depend on order. NaN magnitudes sort above everything,
 * as in torch. A density of 1 gives 0: every element kept, NaN included.
 */
final class MagnitudeThresholds {
  private static final int BINS = 1 << 16;

  private MagnitudeThresholds() {}

  /** One cut per input (0 for the base and for densities of 1), from the tensor's whole inputs. */
  static int[] of(PlannedTensor tensor, ByteBuffer[] inputs) {
    int[] keepFrom = new int[inputs.length];
    if (tensor.densities() == null) {
      return keepFrom;
    }
    long n = tensor.elementCount();
    DType baseType = tensor.inputs().get(0).dtype();
    for (int m = 1; m < inputs.length; m++) {
      double density = tensor.densities()[m];
      if (density >= 1) {
        continue;
      }
      long k = (long) (density * n);
      if (k == 0) {
        throw new UserError("density " + density + " keeps no element of `" + tensor.name() + "` (" + n
            + " elements); mergekit refuses this too");
      }
      DType type = tensor.inputs().get(m).dtype();
      long[] high = new long[BINS];
      for (long i = 0; i < n; i++) {
        high[magnitudeBits(inputs[m], type, inputs[0], baseType, i) >>> 16]++;
      }
      int bin = BINS - 1;
      long above = 0;
      while (above + high[bin] < k) {
        above += high[bin--];
      }
      long[] low = new long[BINS];
      for (long i = 0; i < n; i++) {
        int bits = magnitudeBits(inputs[m], type, inputs[0], baseType, i);
        if (bits >>> 16 == bin) {
          low[bits & 0xFFFF]++;
        }
      }
      int lowBin = BINS - 1;
      while (above + low[lowBin] < k) {
        above += low[lowBin--];
      }
      keepFrom[m] = bin << 16 | lowBin;
    }
    return keepFrom;
  }

  /** The float32 bit pattern of |x[i] − base[i]|, sign cleared. */
  static int magnitudeBits(ByteBuffer x, DType xType, ByteBuffer base, DType baseType, long i) {
    return Float.floatToRawIntBits(value(x, xType, i) - value(base, baseType, i)) & 0x7FFF_FFFF;
  }

  private static float value(ByteBuffer b, DType type, long i) {
    int at = Math.toIntExact(i * type.byteSize());
    return switch (type) {
      case F32 -> b.getFloat(at);
      case F16 -> FloatBits.f16ToFloat(b.getShort(at));
      case BF16 -> Float.intBitsToFloat(b.getShort(at) << 16);
      default -> throw new IllegalArgumentException("not a merge input type: " + type);
    };
  }
}
