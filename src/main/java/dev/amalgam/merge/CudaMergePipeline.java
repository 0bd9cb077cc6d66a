package dev.amalgam.merge;

import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Streams tensors through the GPU in fixed-size chunks. The calling thread reads each chunk from the mapped
 * inputs into a free {@link StagingSlot} and enqueues upload, kernel and (optionally) download on the slot's
 * stream; a completion thread waits for each chunk in order, frees its slot, and hands finished tensors on.
 * With several slots, chunk k+1 is read and uploaded while chunk k computes and downloads and chunk k-1 is
 * being written. Memory is the slots alone, whatever the model size, plus, for a tensor whose statistics the GPU
 * finds ({@link DeviceStatistics}), that tensor's inputs: uploaded whole through the slots, then the statistics
 * passes run over them on their own stream, and the element op reads them there, so nothing crosses the bus twice.
 * With a {@link ResidentInputCache}, inputs uploaded whole stay on the device for the merges after this one.
 */
final class CudaMergePipeline implements AutoCloseable {

  /** Where one tensor's chunks go and what happens when all of them are done. */
  interface TensorTarget {
    /**
     * Device address the kernel writes element {@code start} to, or -1 to use the slot's output chunk,
     * which is then downloaded and handed to {@link #downloaded}.
     */
    long deviceOutput(long start);

    /** Runs on the completion thread with a downloaded chunk (valid during the call), unless something failed. */
    void downloaded(long start, ByteBuffer bytes);

    /** Runs on the completion thread once every chunk of the tensor has finished, unless something failed. */
    void finished();

    /** Runs on the completion thread after {@link #finished}, or instead of it after a failure. */
    void release();
  }

  /** A chunk on its way; {@code downloadBytes} is 0 when the result stays on the device. */
  private record Completion(StagingSlot slot, TensorTarget target, long start, long downloadBytes,
      boolean lastOfTensor) {}

  private static final Completion END = new Completion(null, null, 0, 0, false);

  private final CudaContext context;
  private final MergeKernel kernel;
  private final long chunkElements;
  private final List<StagingSlot> slots;
  private final BlockingQueue<StagingSlot> freeSlots;
  private final BlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final Thread completionThread;
  private final CudaStream statisticsStream;
  private final StreamWorkspace statisticsWorkspace;
  private final ResidentInputCache cache;

  /** {@code cache}: where inputs stay on the device across merges, or null to keep none beyond their tensor. */
  CudaMergePipeline(CudaContext context, MergeKernel kernel, long chunkElements, List<StagingSlot> slots,
      ResidentInputCache cache) {
    this.context = context;
    this.kernel = kernel;
    this.chunkElements = chunkElements;
    this.slots = slots;
    this.cache = cache;
    this.freeSlots = new ArrayBlockingQueue<>(slots.size(), false, slots);
    this.statisticsStream = CudaStream.create();
    this.statisticsWorkspace = new StreamWorkspace(statisticsStream);
    this.completionThread = new Thread(this::completeInOrder, "amalgam-cuda-merge-completion");
    this.completionThread.setDaemon(true);
    this.completionThread.start();
  }

  /** Enqueues every chunk of {@code tensor}; returns once the last one is on its stream. */
  void submit(PlannedTensor tensor, List<ByteBuffer> mapped, TensorTarget target) throws InterruptedException {
    long n = tensor.elementCount();
    if (n == 0) {
      completions.put(new Completion(null, target, 0, 0, true));
      return;
    }
    boolean onDevice = canResideOnDevice(tensor);
    ResidentInputs cached = cache != null && onDevice ? cache.find(tensor) : null;
    if (cached != null) {
      mergeResident(tensor, mapped, cached, target, false);
      return;
    }
    ResidentInputs kept = cache != null && onDevice ? cache.room(tensor) : null;
    ResidentInputs resident = kept != null ? kept
        : onDevice && DeviceStatistics.supports(tensor) ? ResidentInputs.allocate(tensor) : null;
    if (resident != null) {
      try {
        uploadWhole(tensor, mapped, resident);
      } catch (RuntimeException | InterruptedException | Error e) {
        freeAfterQueued(resident);
        throw e;
      }
      if (kept != null) {
        cache.keep(tensor, kept);
      }
      mergeResident(tensor, mapped, resident, target, kept == null);
      return;
    }
    // The second family's statistics, and tensors the device has no room for: found on the host, from the mapped
    // inputs, before the chunks upload.
    ByteBuffer[] inputs = mapped.toArray(ByteBuffer[]::new);
    RuleStatistics ruled = tensor.rule() != null ? RuleStatistics.of(tensor, inputs) : null;
    TensorStatistics statistics = tensor.taskVectors() && ruled == null ? TensorStatistics.of(tensor, inputs) : null;
    mergeChunks(tensor, statistics, ruled, target,
        (slot, start, count) -> slot.upload(tensor.inputs(), mapped, statistics == null ? null : statistics.keepMasks(),
            ruled, start, count));
  }

  /**
   * Whether everything the element op reads can be on the device: not the second family's segment values (found on
   * the host), and DELLA's keep bits only where chunks start on their 32-element words.
   */
  private boolean canResideOnDevice(PlannedTensor tensor) {
    return tensor.rule() == null && (ResidentInputs.keepBitBytes(tensor) == 0 || chunkElements % 32 == 0);
  }

  /** Where a chunk's inputs come from: staged and uploaded into its slot, or already on the device. */
  private interface ChunkInputs {
    StagingSlot.Uploaded of(StagingSlot slot, long start, long count);
  }

  /** Enqueues the upload of every input of {@code tensor}, whole, into {@code resident}, through the slots. */
  private void uploadWhole(PlannedTensor tensor, List<ByteBuffer> mapped, ResidentInputs resident)
      throws InterruptedException {
    long n = tensor.elementCount();
    for (long start = 0; start < n; start += chunkElements) {
      rethrowFailure();
      long count = Math.min(chunkElements, n - start);
      StagingSlot slot = freeSlots.take();
      try {
        slot.uploadTo(resident, tensor.inputs(), mapped, start, count);
        slot.done.record(slot.stream);
        slot.done.awaitOn(statisticsStream);
        completions.put(new Completion(slot, null, start, 0, false));
      } catch (RuntimeException | InterruptedException e) {
        settle(slot, e);
        throw e;
      }
    }
  }

  /**
   * Finds the statistics of {@code tensor} from {@code resident} (the host's where they need no pass over the
   * inputs), then merges its chunks from there. With {@code owned}, {@code resident} is freed once the last chunk
   * has finished, or after a failure, once every chunk queued before it has settled.
   */
  private void mergeResident(PlannedTensor tensor, List<ByteBuffer> mapped, ResidentInputs resident,
      TensorTarget target, boolean owned) throws InterruptedException {
    try {
      TensorStatistics statistics = DeviceStatistics.supports(tensor)
          ? DeviceStatistics.of(tensor, resident.at(0), resident.keepBits(), kernel.on(statisticsStream),
              statisticsWorkspace)
          : tensor.taskVectors() ? TensorStatistics.of(tensor, mapped.toArray(ByteBuffer[]::new)) : null;
      // Every upload is complete before any chunk's kernel, on whichever stream, reads the inputs.
      statisticsStream.synchronize();
      mergeChunks(tensor, statistics, null, owned ? new ReleasingTarget(target, resident) : target,
          (slot, start, count) -> new StagingSlot.Uploaded(resident.at(start), resident.keepBitsAt(start), 0));
    } catch (RuntimeException | InterruptedException | Error e) {
      if (owned) {
        freeAfterQueued(resident);
      }
      throw e;
    }
  }

  /**
   * Frees {@code resident} on the completion thread once every chunk queued so far has settled: after a failure,
   * the last chunk never reached the completion thread, so nothing else frees it. add, not put: the queue is
   * unbounded, and an interrupted thread must still queue this.
   */
  private void freeAfterQueued(ResidentInputs resident) {
    completions.add(new Completion(null, new Marker(resident::close), 0, 0, true));
  }

  /** Enqueues the element op over every chunk of {@code tensor}, reading its inputs from {@code chunkInputs}. */
  private void mergeChunks(PlannedTensor tensor, TensorStatistics statistics, RuleStatistics ruled,
      TensorTarget target, ChunkInputs chunkInputs) throws InterruptedException {
    long n = tensor.elementCount();
    int outputBytes = tensor.outDType().byteSize();
    for (long start = 0; start < n; start += chunkElements) {
      rethrowFailure();
      long count = Math.min(chunkElements, n - start);
      StagingSlot slot = freeSlots.take();
      try {
        StagingSlot.Uploaded uploaded = chunkInputs.of(slot, start, count);
        long requested = target.deviceOutput(start);
        long output = requested >= 0 ? requested : slot.deviceOutputAddress();
        MergeKernel.weightedSum(kernel.on(slot.stream),
            kernelArgs(tensor, statistics, ruled, uploaded, output, start, count));
        long downloadBytes = requested >= 0 ? 0 : count * outputBytes;
        if (downloadBytes > 0) {
          slot.download(downloadBytes);
        }
        slot.done.record(slot.stream);
        completions.put(new Completion(slot, target, start, downloadBytes, start + count == n));
      } catch (RuntimeException | InterruptedException e) {
        settle(slot, e);
        throw e;
      }
    }
  }

  /** A chunk that never reached the completion thread: its stream settled here before the slot is reused. */
  private void settle(StagingSlot slot, Exception failure) {
    try {
      slot.stream.synchronize();
    } catch (RuntimeException secondary) {
      failure.addSuppressed(secondary);
    }
    freeSlots.add(slot);
  }

  /** A place in the completion order without chunks: it runs {@code onRelease} once everything before it is done. */
  private record Marker(Runnable onRelease) implements TensorTarget {
    @Override
    public long deviceOutput(long start) {
      throw new IllegalStateException("a marker has no chunks");
    }

    @Override
    public void downloaded(long start, ByteBuffer bytes) {
      throw new IllegalStateException("a marker has no chunks");
    }

    @Override
    public void finished() {}

    @Override
    public void release() {
      onRelease.run();
    }
  }

  /** A target that frees a tensor's resident inputs when it is released. */
  private record ReleasingTarget(TensorTarget target, ResidentInputs resident) implements TensorTarget {
    @Override
    public long deviceOutput(long start) {
      return target.deviceOutput(start);
    }

    @Override
    public void downloaded(long start, ByteBuffer bytes) {
      target.downloaded(start, bytes);
    }

    @Override
    public void finished() {
      target.finished();
    }

    @Override
    public void release() {
      try {
        target.release();
      } finally {
        resident.close();
      }
    }
  }

  /** The kernel's arguments for the chunk of {@code tensor} at {@code start}, uploaded to {@code uploaded}. */
  static MergeKernelArgs kernelArgs(PlannedTensor tensor, TensorStatistics statistics, RuleStatistics ruled,
      StagingSlot.Uploaded uploaded, long output, long start, long count) {
    DType[] inputTypes = tensor.inputs().stream().map(TensorInfo::dtype).toArray(DType[]::new);
    if (ruled == null) {
      return new MergeKernelArgs(uploaded.inputs(), inputTypes,
          statistics == null ? tensor.weights() : statistics.weightsOr(tensor.weights()),
          tensor.divisor(), tensor.normalize(), output, tensor.outDType(), count,
          statistics == null ? null : MergeKernelArgs.TaskVectors.of(tensor, statistics, start, uploaded.keepBits()),
          null, tensor.rounding());
    }
    TensorRule rule = tensor.rule();
    int op = rule instanceof TensorRule.NearSwap ? MergeKernelArgs.OP_NEARSWAP
        : rule instanceof TensorRule.Fusion ? MergeKernelArgs.OP_FUSION : 0;
    // A combination over one segment has the tensor's weights; others read their segment's.
    boolean whole = op == 0 && ruled.segments() == TensorRule.Segments.TENSOR;
    return new MergeKernelArgs(uploaded.inputs(), inputTypes, whole ? ruled.values() : tensor.weights(), 1f, false,
        output, tensor.outDType(), count,
        tensor.taskVectors() ? MergeKernelArgs.TaskVectors.whole(tensor.inputs().size(), start) : null,
        new MergeKernelArgs.Rule(op, ruled.parameter(), ruled, uploaded.segmentValues(), start), tensor.rounding());
  }

  /** Waits until every submitted tensor is finished, then throws the first failure of the completion side. */
  void drain() throws InterruptedException {
    CountDownLatch reached = new CountDownLatch(1);
    completions.put(new Completion(null, new Marker(reached::countDown), 0, 0, true));
    reached.await();
    rethrowFailure();
  }

  private void completeInOrder() {
    try {
      context.makeCurrent();
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
    while (true) {
      Completion completion;
      try {
        completion = completions.take();
      } catch (InterruptedException e) {
        failure.compareAndSet(null, e);
        return;
      }
      if (completion == END) {
        return;
      }
      complete(completion);
    }
  }

  /**
   * Never throws: after a failure it keeps freeing slots, so the submitting thread cannot block forever. A
   * downloaded chunk is handed on before its slot is freed, since the slot's pinned memory holds it.
   */
  private void complete(Completion completion) {
    if (completion.slot() != null) {
      try {
        completion.slot().done.synchronize();
        if (completion.downloadBytes() > 0 && failure.get() == null) {
          completion.target().downloaded(completion.start(), completion.slot().downloaded(completion.downloadBytes()));
        }
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
      } finally {
        freeSlots.add(completion.slot());
      }
    }
    if (completion.lastOfTensor()) {
      try {
        if (failure.get() == null) {
          completion.target().finished();
        }
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
      } finally {
        completion.target().release();
      }
    }
  }

  private void rethrowFailure() {
    Throwable first = failure.get();
    if (first instanceof RuntimeException e) {
      throw e;
    }
    if (first instanceof Error e) {
      throw e;
    }
    if (first != null) {
      throw new IllegalStateException("CUDA merge completion failed", first);
    }
  }

  /** Stops the completion thread after it has finished what was submitted, then frees the slots. */
  @Override
  public void close() {
    RuntimeException failure = null;
    try {
      completions.put(END);
      completionThread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = new IllegalStateException("interrupted while stopping the CUDA merge pipeline", e);
    }
    List<AutoCloseable> resources = new ArrayList<>(slots);
    resources.add(statisticsWorkspace);
    resources.add(statisticsStream);
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
