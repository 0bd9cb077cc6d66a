package dev.amalgam.device;

import dev.amalgam.backend.Tensor;
import dev.amalgam.backend.cuda.CudaBackend;
import dev.amalgam.merge.CudaMergeEngine;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.PlannedTensor;
import dev.amalgam.merge.ResidentInputCache;
import dev.amalgam.model.WeightSource;
import dev.amalgam.tensor.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Points merged on the GPU: each point merged in place writes the model's bf16 weights with the kernels, from inputs
 * uploaded by the first such point and kept in device memory (a {@link ResidentInputCache}) where they fit.
 */
final class CudaPointMerger implements PointMerger {
  /** Device memory left free for what generation allocates after a merge: its KV cache and activations. */
  static final long RESERVE_BYTES = 4L << 30;

  private final CudaBackend backend;
  private final CudaMergeEngine engine;
  private final MergeEngine.MergeProgress progress;
  private final ResidentInputCache inputs = new ResidentInputCache(RESERVE_BYTES);

  CudaPointMerger(CudaBackend backend, CudaMergeEngine engine, MergeEngine.MergeProgress progress) {
    this.backend = backend;
    this.engine = engine;
    this.progress = progress;
  }

  /**
   * Without the input cache: the weights are allocated tensor by tensor as the merge goes, so inputs kept now could
   * leave no room for the last ones. The first point merged in place fills the cache, once the weights are there.
   */
  @Override
  public WeightSource merge(MergePlan plan) {
    return new ResidentWeights(engine.mergeToDevice(plan.tensors(), plan, progress), backend,
        "the merge on " + engine.device() + ", held in memory on the GPU");
  }

  /** The kernels write the output dtype, and the backend holds weights in bf16: only bf16 merges go in place. */
  @Override
  public boolean mergeInto(MergePlan plan, Map<String, Tensor> weights) {
    List<PlannedTensor> tensors = PointMerger.matching(plan, weights);
    if (tensors == null || tensors.stream().anyMatch(t -> t.outDType() != DType.BF16)) {
      return false;
    }
    Map<String, Long> addresses = new LinkedHashMap<>();
    for (PlannedTensor tensor : tensors) {
      addresses.put(tensor.name(), backend.address(weights.get(tensor.name())));
    }
    engine.mergeInto(tensors, plan, addresses, progress, inputs);
    return true;
  }

  @Override
  public String memoryNeeds(MergePlan plan) {
    long weights = plan.tensors().stream().mapToLong(t -> t.elementCount() * DType.BF16.byteSize()).sum();
    long inputs = plan.tensors().stream().mapToLong(PlannedTensor::inBytes).sum();
    long free = engine.freeBytes();
    boolean fits = weights + inputs + RESERVE_BYTES <= free;
    return "GPU memory: the model's bf16 weights take " + PointMerger.size(weights) + ", the inputs "
        + PointMerger.size(inputs) + " to stay resident, with " + PointMerger.size(RESERVE_BYTES)
        + " left for generation; " + PointMerger.size(free) + " free: "
        + (fits ? "every input stays on the GPU" : "inputs that do not fit stream from pinned host memory each point");
  }

  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      inputs.close();
    }
  }
}
