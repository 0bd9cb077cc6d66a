package dev.amalgam.merge;

import dev.amalgam.UserError;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.io.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges on one GPU with {@code cuda-kernels/merge.cu}, streaming every tensor through fixed-size chunks
 * (see {@link CudaMergePipeline}). {@link #run} downloads each finished chunk and hands it to the output on
 * the pipeline's completion thread; {@link #mergeToDevice} keeps the results in GPU memory for generation.
 *
 * <p>The engine borrows its {@link CudaContext}: closing the engine frees its kernel and staging, while the
 * context, and any {@link DeviceTensor} made with it, stay valid until their owner closes them.
 */
public final class CudaMergeEngine implements MergeEngine {
  /** 16 Mi elements per chunk: 64 MiB of float32 or 32 MiB of bf16 output, whatever the model size. */
  public static final long DEFAULT_CHUNK_ELEMENTS = 16L << 20;
  /** Chunks in flight: one being read and uploaded, one computing, one downloading or being written. */
  private static final int SLOTS = 3;

  private final CudaContext context;
  private final MergeKernel kernel;
  private final long chunkElements;

  /**
   * @param chunkElements elements per chunk, a positive multiple of 8 (the kernel's vector width), so every
   *     chunk of a device-resident output starts 16-byte aligned
   */
  public CudaMergeEngine(CudaContext context, KernelCompiler compiler, long chunkElements) {
    if (chunkElements <= 0 || chunkElements % 8 != 0) {
      throw new IllegalArgumentException("chunk size must be a positive multiple of 8, not " + chunkElements);
    }
    this.context = context;
    this.chunkElements = chunkElements;
    context.makeCurrent();
    this.kernel = MergeKernel.load(context, compiler);
  }

  /** Default chunking, kernels cached in {@code $AMALGAM_CACHE_DIR} or {@code ~/.cache/amalgam/cubin}. */
  public CudaMergeEngine(CudaContext context) {
    this(context, new KernelCompiler(KernelCache.fromEnvironment()), DEFAULT_CHUNK_ELEMENTS);
  }

  /** Device memory free now on this engine's GPU. */
  public long freeBytes() {
    context.makeCurrent();
    return DeviceBuffer.freeBytes();
  }

  @Override
  public String device() {
    return context.description();
  }

  @Override
  public void run(List<PlannedTensor> tensors, TensorSource inputs, MergeOutput output, MergeProgress progress) {
    tensors.forEach(CudaMergeEngine::validate);
    context.makeCurrent();
    long outputChunkBytes = tensors.stream()
        .mapToLong(t -> Math.min(t.elementCount(), chunkElements) * t.outDType().byteSize()).max().orElse(0);
    try (CudaMergePipeline pipeline = openPipeline(tensors, Math.max(outputChunkBytes, 1), null)) {
      for (PlannedTensor tensor : tensors) {
        pipeline.submit(tensor, map(tensor, inputs), new DownloadTarget(tensor, output, progress));
      }
      pipeline.drain();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the CUDA merge", e);
    }
  }

  /**
   * Merges every tensor into GPU memory and keeps it there, in plan order by name. The caller owns the
   * returned tensors and closes them (before the context); on failure none are left allocated.
   */
  public Map<String, DeviceTensor> mergeToDevice(
      List<PlannedTensor> tensors, TensorSource inputs, MergeProgress progress) {
    tensors.forEach(CudaMergeEngine::validate);
    context.makeCurrent();
    Map<String, DeviceTensor> merged = new LinkedHashMap<>();
    boolean complete = false;
    try (CudaMergePipeline pipeline = openPipeline(tensors, 0, null)) {
      for (PlannedTensor tensor : tensors) {
        DeviceTensor result = new DeviceTensor(
            tensor.name(), tensor.outDType(), tensor.shape(), DeviceBuffer.allocate(tensor.outBytes()));
        merged.put(tensor.name(), result);
        pipeline.submit(tensor, map(tensor, inputs), new ResidentTarget(tensor, result.address(), progress));
      }
      pipeline.drain();
      complete = true;
      return merged;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the CUDA merge", e);
    } finally {
      if (!complete) {
        merged.values().forEach(DeviceTensor::close);
      }
    }
  }

  /**
   * Merges every tensor over device memory that already holds it: {@code outputs} maps each name to the device
   * address of a buffer of the tensor's shape in its {@code outDType} (a model's weights, rewritten in place), with
   * the inputs kept in {@code cache} (or null). Returns once every tensor is written.
   */
  public void mergeInto(List<PlannedTensor> tensors, TensorSource inputs, Map<String, Long> outputs,
      MergeProgress progress, ResidentInputCache cache) {
    tensors.forEach(CudaMergeEngine::validate);
    context.makeCurrent();
    try (CudaMergePipeline pipeline = openPipeline(tensors, 0, cache)) {
      for (PlannedTensor tensor : tensors) {
        pipeline.submit(tensor, map(tensor, inputs), new ResidentTarget(tensor, outputs.get(tensor.name()), progress));
      }
      pipeline.drain();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the CUDA merge", e);
    }
  }

  private CudaMergePipeline openPipeline(List<PlannedTensor> tensors, long outputChunkBytes,
      ResidentInputCache cache) {
    long stagingBytes = tensors.stream()
        .mapToLong(t -> StagingSlot.stagingBytes(t, Math.min(t.elementCount(), chunkElements)))
        .max().orElse(0);
    List<StagingSlot> slots = new ArrayList<>();
    try {
      for (int i = 0; i < SLOTS; i++) {
        slots.add(StagingSlot.allocate(Math.max(stagingBytes, 1), outputChunkBytes));
      }
    } catch (RuntimeException e) {
      slots.forEach(StagingSlot::close);
      throw e;
    }
    return new CudaMergePipeline(context, kernel, chunkElements, slots, cache);
  }

  private static List<ByteBuffer> map(PlannedTensor tensor, TensorSource inputs) {
    List<ByteBuffer> mapped = new ArrayList<>();
    for (TensorInfo input : tensor.inputs()) {
      mapped.add(inputs.map(input).order(ByteOrder.LITTLE_ENDIAN));
    }
    return mapped;
  }

  private static void validate(PlannedTensor tensor) {
    int n = tensor.inputs().size();
    if (n > MergeKernelArgs.MAX_INPUTS) {
      throw new UserError("tensor `" + tensor.name() + "` merges " + n + " models; the CUDA merge takes at most "
          + MergeKernelArgs.MAX_INPUTS);
    }
    if (n == 0 || tensor.weights().length != n) {
      throw new IllegalArgumentException("tensor `" + tensor.name() + "` has " + n + " inputs and "
          + tensor.weights().length + " weights");
    }
    if (!tensor.outDType().isMergeable()) {
      throw new IllegalArgumentException("tensor `" + tensor.name() + "` cannot be merged into " + tensor.outDType());
    }
    if (tensor.outBytes() > Integer.MAX_VALUE) {
      throw new UserError("tensor `" + tensor.name() + "` is " + tensor.outBytes()
          + " bytes merged; tensors over 2 GiB are not supported yet");
    }
    for (TensorInfo input : tensor.inputs()) {
      if (!input.dtype().isMergeable() || input.elementCount() != tensor.elementCount()) {
        throw new IllegalArgumentException("input `" + input.name() + "` (" + input.dtype() + " "
            + input.shapeString() + ") does not fit tensor `" + tensor.name() + "`");
      }
    }
  }

  @Override
  public void close() {
    kernel.close();
  }

  /** Downloads each chunk into its slot's pinned memory and writes it out on the completion thread. */
  private record DownloadTarget(PlannedTensor tensor, MergeOutput output, MergeProgress progress)
      implements CudaMergePipeline.TensorTarget {

    @Override
    public long deviceOutput(long start) {
      return -1;
    }

    @Override
    public void downloaded(long start, ByteBuffer bytes) {
      output.accept(tensor, start * tensor.outDType().byteSize(), bytes);
    }

    @Override
    public void finished() {
      progress.tensorDone(tensor);
    }

    @Override
    public void release() {}
  }

  /** Has the kernel write straight into device memory at {@code address}; nothing comes back to the host. */
  private record ResidentTarget(PlannedTensor tensor, long address, MergeProgress progress)
      implements CudaMergePipeline.TensorTarget {

    @Override
    public long deviceOutput(long start) {
      return address + start * tensor.outDType().byteSize();
    }

    @Override
    public void downloaded(long start, ByteBuffer bytes) {
      throw new IllegalStateException("a device-resident tensor is never downloaded");
    }

    @Override
    public void finished() {
      progress.tensorDone(tensor);
    }

    @Override
    public void release() {}
  }
}
