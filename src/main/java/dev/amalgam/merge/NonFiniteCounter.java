package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the NaN and infinite elements of each merged tensor as its chunks pass on to the real output, so a
 * merge reports them instead of writing them silently: they come from NaN or infinite inputs, or from finite
 * weights and inputs whose products overflow. Works on the output bytes, so it serves every engine alike.
 */
final class NonFiniteCounter implements MergeEngine.MergeOutput {
  private final MergeEngine.MergeOutput next;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  NonFiniteCounter(MergeEngine.MergeOutput next) {
    this.next = next;
  }

  @Override
  public void accept(PlannedTensor tensor, long byteOffset, ByteBuffer bytes) {
    long n = count(bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN), tensor.outDType());
    if (n > 0) {
      counts.computeIfAbsent(tensor.name(), name -> new LongAdder()).add(n);
    }
    next.accept(tensor, byteOffset, bytes);
  }

  /** Tensor name to its count of NaN and infinite elements, for the tensors that have any. */
  Map<String, Long> counts() {
    Map<String, Long> sorted = new TreeMap<>();
    counts.forEach((name, n) -> sorted.put(name, n.sum()));
    return sorted;
  }

  /** Elements whose exponent bits are all ones: the infinities and NaNs of each format. */
  static long count(ByteBuffer bytes, DType type) {
    long n = 0;
    if (type == DType.F32) {
      IntBuffer words = bytes.asIntBuffer();
      for (int i = 0; i < words.limit(); i++) {
        n += (words.get(i) & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0;
      }
      return n;
    }
    int exponent = type == DType.F16 ? 0x7C00 : 0x7F80;
    ShortBuffer halves = bytes.asShortBuffer();
    for (int i = 0; i < halves.limit(); i++) {
      n += (halves.get(i) & exponent) == exponent ? 1 : 0;
    }
    return n;
  }
}
