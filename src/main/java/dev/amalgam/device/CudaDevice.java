package dev.amalgam.device;

import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.merge.CudaMergeEngine;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.model.WeightSource;

/**
 * A GPU: one CUDA context that the generation backend and every merge engine share, and one kernel cache. A
 * merge for generation leaves its tensors on the device, where the backend takes them over.
 */
final class CudaDevice implements Device {
  private final CudaContext context;
  private final KernelCompiler compiler;
  private final boolean cudaGraphs;
  private CudaBackend backend;

  private CudaDevice(CudaContext context, boolean cudaGraphs) {
    this.context = context;
    this.compiler = new KernelCompiler(KernelCache.fromEnvironment());
    this.cudaGraphs = cudaGraphs;
  }

  static CudaDevice open(int ordinal, boolean cudaGraphs) {
    return new CudaDevice(CudaContext.open(ordinal), cudaGraphs);
  }

  @Override
  public String description() {
    return context.description();
  }

  @Override
  public synchronized CudaBackend backend() {
    if (backend == null) {
      backend = CudaBackend.on(context, compiler, cudaGraphs);
    }
    return backend;
  }

  @Override
  public CudaMergeEngine mergeEngine() {
    return new CudaMergeEngine(context, compiler, CudaMergeEngine.DEFAULT_CHUNK_ELEMENTS);
  }

  @Override
  public WeightSource mergeInMemory(MergePlan plan, MergeEngine.MergeProgress progress) {
    CudaBackend owner = backend();
    try (CudaMergeEngine engine = mergeEngine()) {
      return new ResidentWeights(engine.mergeToDevice(plan.tensors(), plan, progress), owner,
          "the merge on " + engine.device() + ", held in memory on the GPU");
    }
  }

  @Override
  public PointMerger pointMerger(MergeEngine.MergeProgress progress) {
    return new CudaPointMerger(backend(), mergeEngine(), progress);
  }

  @Override
  public synchronized void close() {
    try {
      if (backend != null) {
        backend.close();
        backend = null;
      }
    } finally {
      context.close();
    }
  }
}
