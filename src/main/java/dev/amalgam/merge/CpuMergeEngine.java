package dev.amalgam.merge;

import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Merges on the CPU in plain Java: each tensor is split into element ranges computed by all cores, and a
 * writer thread hands the previous tensor to the output meanwhile. Plain Java beats libtorch here end to
 * end because the work is memory-bound and libtorch costs seconds of native start-up (see README).
 * Memory is bounded by {@link #BUFFERS} output buffers of the largest tensor.
 */
public final class CpuMergeEngine implements MergeEngine {
  /** One tensor being computed, one being written, one ready: enough to keep disk and cores busy. */
  private static final int BUFFERS = 3;
  private static final long MIN_ELEMENTS_PER_TASK = 1 << 16;

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
    ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("amalgam-merge"));
    BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    long largest = tensors.stream().mapToLong(PlannedTensor::outBytes).max().orElse(0);
    for (int i = 0; i < BUFFERS; i++) {
      free.add(ByteBuffer.allocateDirect((int) largest).order(ByteOrder.LITTLE_ENDIAN));
    }
    ExecutorService writer = Executors.newSingleThreadExecutor(daemon("amalgam-writer"));
    List<Future<?>> writes = new ArrayList<>();
    try {
      for (PlannedTensor tensor : tensors) {
        ByteBuffer out = take(free);
        compute(tensor, inputs, out, pool);
        writes.add(writer.submit(() -> {
          try {
            output.accept(tensor, out.duplicate().order(ByteOrder.LITTLE_ENDIAN).limit((int) tensor.outBytes()));
            progress.tensorDone(tensor);
          } finally {
            free.add(out);
          }
        }));
        rethrowFailedWrites(writes);
      }
      for (Future<?> w : writes) {
        await(w);
      }
    } finally {
      pool.shutdownNow();
      writer.shutdownNow();
    }
  }

  private void compute(PlannedTensor tensor, TensorSource source, ByteBuffer out, ExecutorService pool) {
    int n = tensor.inputs().size();
    ByteBuffer[] inputs = new ByteBuffer[n];
    DType[] types = new DType[n];
    for (int i = 0; i < n; i++) {
      TensorInfo info = tensor.inputs().get(i);
      inputs[i] = source.map(info);
      types[i] = info.dtype();
    }
    long elements = tensor.elementCount();
    float divisor = tensor.divisor();
    long per = Math.max(MIN_ELEMENTS_PER_TASK, (elements + threads - 1) / threads);
    List<Future<?>> parts = new ArrayList<>();
    for (long from = 0; from < elements; from += per) {
      long start = from;
      long end = Math.min(elements, from + per);
      parts.add(pool.submit(() -> LinearKernel.run(duplicates(inputs), types, tensor.weights(), divisor,
          out.duplicate().order(ByteOrder.LITTLE_ENDIAN), tensor.outDType(), start, end)));
    }
    parts.forEach(CpuMergeEngine::await);
  }

  /** Absolute get/put are thread-safe on separate duplicates; duplicates also keep the byte order. */
  private static ByteBuffer[] duplicates(ByteBuffer[] buffers) {
    ByteBuffer[] copies = new ByteBuffer[buffers.length];
    for (int i = 0; i < buffers.length; i++) {
      copies[i] = buffers[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
    return copies;
  }

  private static void rethrowFailedWrites(List<Future<?>> writes) {
    for (Future<?> w : writes) {
      if (w.isDone()) {
        await(w);
      }
    }
  }

  private static ByteBuffer take(BlockingQueue<ByteBuffer> free) {
    try {
      return free.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MergeInterruptedException();
    }
  }

  static void await(Future<?> future) {
    try {
      future.get();
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

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The merge was interrupted (Ctrl-C); the output directory is discarded by its owner. */
  public static final class MergeInterruptedException extends RuntimeException {
    MergeInterruptedException() {
      super("merge interrupted");
    }
  }
}
