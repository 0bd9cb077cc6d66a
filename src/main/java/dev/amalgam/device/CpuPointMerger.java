package dev.amalgam.device;

import dev.amalgam.backend.Tensor;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.Merger;
import dev.amalgam.merge.PlannedTensor;
import dev.amalgam.model.WeightSource;
import java.util.List;
import java.util.Map;

/**
 * Points merged on the CPU: the inputs stay mapped (the page cache holds them after the first point), and each
 * merged chunk is written over the model's float32 weights as it is produced, converted as an upload converts it.
 */
final class CpuPointMerger implements PointMerger {
  private final CpuBackend backend;
  private final MergeEngine engine;
  private final MergeEngine.MergeProgress progress;

  CpuPointMerger(CpuBackend backend, MergeEngine engine, MergeEngine.MergeProgress progress) {
    this.backend = backend;
    this.engine = engine;
    this.progress = progress;
  }

  @Override
  public WeightSource merge(MergePlan plan) {
    return WeightSource.of(Merger.toMemory(plan, engine, progress), "the merge on " + engine.device()
        + ", held in memory");
  }

  @Override
  public boolean mergeInto(MergePlan plan, Map<String, Tensor> weights) {
    List<PlannedTensor> tensors = PointMerger.matching(plan, weights);
    if (tensors == null) {
      return false;
    }
    engine.run(tensors, plan, (tensor, byteOffset, bytes) -> backend.overwrite(weights.get(tensor.name()),
        byteOffset / tensor.outDType().byteSize(), tensor.outDType(), bytes), progress);
    return true;
  }

  @Override
  public String memoryNeeds(MergePlan plan) {
    long elements = plan.tensors().stream().mapToLong(PlannedTensor::elementCount).sum();
    long inputs = plan.tensors().stream().mapToLong(PlannedTensor::inBytes).sum();
    return "memory: the model's float32 weights take " + PointMerger.size(elements * Float.BYTES)
        + " (and the first point's merge as much again while the model is built); the inputs ("
        + PointMerger.size(inputs) + ") stay mapped, read from the page cache where it holds them";
  }

  @Override
  public void close() {
    engine.close();
  }
}
