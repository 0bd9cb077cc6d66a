package dev.amalgam.merge;

import java.util.List;
import java.util.function.LongFunction;
import java.util.stream.LongStream;

/**
 * A tensor's elements cut into fixed blocks for the whole-tensor passes of {@link TensorStatistics}: the blocks
 * are worked on in parallel, and their results come back in block order, so sums combined in that order are the
 * same whatever the thread count. A block holds whole rows (of the last dimension), so DELLA ranks each row once
 * and row statistics need no other block.
 */
record TensorBlocks(long elements, int blockLength) {
  /** About 256 Ki elements: 1 MiB of float32 per input, a few per worker. */
  private static final int TARGET = 1 << 18;

  static TensorBlocks of(PlannedTensor tensor) {
    long[] shape = tensor.shape();
    return aligned(tensor.elementCount(), shape.length >= 2 ? Math.max(1, shape[shape.length - 1]) : 1);
  }

  /** Blocks of whole rows of {@code rowLength} elements: one row where a row is longer than the target. */
  static TensorBlocks aligned(long elements, long rowLength) {
    int length = rowLength > TARGET ? Math.toIntExact(rowLength) : (int) (TARGET / rowLength * rowLength);
    return new TensorBlocks(elements, length);
  }

  long count() {
    return (elements + blockLength - 1) / blockLength;
  }

  long start(long block) {
    return block * blockLength;
  }

  int length(long block) {
    return (int) Math.min(blockLength, elements - start(block));
  }

  /** {@code work} applied to every block, in parallel; the results in block order. */
  <T> List<T> map(LongFunction<T> work) {
    return LongStream.range(0, count()).parallel().mapToObj(work).toList();
  }
}
