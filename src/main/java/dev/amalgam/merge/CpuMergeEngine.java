package dev.amalgam.merge;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Merges on the CPU in plain Java. Every tensor is cut into chunks of at most {@link #CHUNK_ELEMENTS}; each
 * worker computes a chunk into its own small buffer and writes it out itself, so reading (page faults on
 * the mapped inputs), arithmetic and writing overlap across workers, and memory is a few megabytes per
 * thread whatever the model size. Plain Java beats libtorch here end to end: the work is memory-bound and
 * libtorch costs seconds of native start-up (see README).
 */
public final class CpuMergeEngine implements MergeEngine {
  /** 4 Mi elements: 8 MiB of bf16 output per chunk, big enough for efficient writes. */
  static final int CHUNK_ELEMENTS = 1 << 22;

  /** Kernels and output buffers are per thread, reused for every chunk. */
  private static final ThreadLocal<LinearKernel> KERNELS = ThreadLocal.withInitial(LinearKernel::new);
  private static final ThreadLocal<PairKernel> PAIR_KERNELS = ThreadLocal.withInitial(PairKernel::new);
  private static final ThreadLocal<ByteBuffer> OUTPUTS = ThreadLocal.withInitial(
      () -> ByteBuffer.allocateDirect(CHUNK_ELEMENTS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN));

  private final int threads;

  public CpuMergeEngine(int threads) {
    this.threads = Math.max(1, threads);
  }

  public CpuMergeEngine() {
    this(Runtime.getRuntime().availableProcessors());
  }

  @Override
  public String device() {
    return "cpu (" + threads + " threads)";
  }

  @Override
  public void run(List<PlannedTensor> tensors, TensorSource inputs, MergeOutput output, MergeProgress progress) {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "amalgam-merge");
      t.setDaemon(true);
      return t;
    });
    // The statistics' parallel passes (TensorBlocks.map) run in the pool of the task that starts them: this one,
    // so that they too use the engine's threads.
    ForkJoinPool statisticsPool = new ForkJoinPool(threads);
    try {
      // Chunks are queued in tensor order, so the workers read the inputs front to back.
      List<Future<?>> chunks = new ArrayList<>();
      for (PlannedTensor tensor : tensors) {
        long elements = tensor.elementCount();
        int count = (int) Math.max(1, (elements + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS);
        AtomicInteger remaining = new AtomicInteger(count);
        ByteBuffer[] mapped = tensor.inputs().stream()
            .map(info -> inputs.map(info).order(ByteOrder.LITTLE_ENDIAN)).toArray(ByteBuffer[]::new);
        // Whole-tensor statistics, before any chunk's element op needs them.
        RuleStatistics ruled = tensor.rule() != null
            ? await(statisticsPool.submit(() -> RuleStatistics.of(tensor, mapped))) : null;
        TensorStatistics statistics = tensor.taskVectors() && ruled == null
            ? await(statisticsPool.submit(() -> TensorStatistics.of(tensor, mapped))) : null;
        for (int c = 0; c < count; c++) {
          long start = (long) c * CHUNK_ELEMENTS;
          long end = Math.min(elements, start + CHUNK_ELEMENTS);
          chunks.add(pool.submit(() -> {
            mergeChunk(tensor, mapped, statistics, ruled, output, start, end);
            if (remaining.decrementAndGet() == 0) {
              progress.tensorDone(tensor);
            }
          }));
        }
      }
      for (Future<?> chunk : chunks) {
        await(chunk);
      }
    } finally {
      pool.shutdownNow();
      statisticsPool.shutdownNow();
    }
  }

  private static void mergeChunk(PlannedTensor tensor, ByteBuffer[] inputs, TensorStatistics statistics,
      RuleStatistics ruled, MergeOutput output, long start, long end) {
    DType[] types = tensor.inputs().stream().map(TensorInfo::dtype).toArray(DType[]::new);
    int outBytes = tensor.outDType().byteSize();
    ByteBuffer out = OUTPUTS.get();
    if (tensor.rule() instanceof TensorRule.Combination) {
      // One segment's weights are the tensor's: the plain weighted sum.
      boolean whole = ruled.segments() == TensorRule.Segments.TENSOR;
      KERNELS.get().run(inputs, types, whole ? ruled.values() : tensor.weights(), 1f, tensor.taskVectors(), 1f, null,
          whole ? null : ruled, tensor.rounding(), out, tensor.outDType(), start, end);
    } else if (tensor.rule() != null) {
      PAIR_KERNELS.get().run(inputs, types, tensor.rule(), ruled, tensor.rounding(), out, tensor.outDType(), start,
          end);
    } else {
      TaskVectorThinning thinning = tensor.sparsification() == null ? null
          : new TaskVectorThinning(tensor, inputs, statistics);
      if (tensor.consensus()) {
        KERNELS.get().runWithConsensus(inputs, types, statistics.weightsOr(tensor.weights()), thinning,
            tensor.sce() != null, statistics.varianceCut(), tensor.normalize(), tensor.lambda(), tensor.rounding(),
            out, tensor.outDType(), start, end);
      } else {
        KERNELS.get().run(inputs, types, tensor.weights(), tensor.divisor(), tensor.taskVectors(), tensor.lambda(),
            thinning, null, tensor.rounding(), out, tensor.outDType(), start, end);
      }
    }
    output.accept(tensor, start * outBytes,
        out.duplicate().order(ByteOrder.LITTLE_ENDIAN).limit((int) ((end - start) * outBytes)));
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MergeInterruptedException();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** The merge was interrupted (Ctrl-C); the output directory is discarded by its owner. */
  public static final class MergeInterruptedException extends RuntimeException {
    MergeInterruptedException() {
      super("merge interrupted");
    }
  }
}
