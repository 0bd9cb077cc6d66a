package dev.amalgam.device;

import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.merge.CpuMergeEngine;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.Merger;
import dev.amalgam.model.WeightSource;

/** The CPU: libtorch for generation, plain Java threads for merges. */
final class CpuDevice implements Device {
  private final Integer mergeThreads;
  private CpuBackend backend;

  CpuDevice(Integer mergeThreads) {
    this.mergeThreads = mergeThreads;
  }

  @Override
  public String description() {
    return "cpu";
  }

  @Override
  public synchronized CpuBackend backend() {
    if (backend == null) {
      backend = new CpuBackend();
    }
    return backend;
  }

  @Override
  public MergeEngine mergeEngine() {
    return mergeThreads == null ? new CpuMergeEngine() : new CpuMergeEngine(mergeThreads);
  }

  @Override
  public WeightSource mergeInMemory(MergePlan plan, MergeEngine.MergeProgress progress) {
    try (MergeEngine engine = mergeEngine()) {
      return WeightSource.of(Merger.toMemory(plan, engine, progress), "the merge on " + engine.device()
          + ", held in memory");
    }
  }

  @Override
  public PointMerger pointMerger(MergeEngine.MergeProgress progress) {
    return new CpuPointMerger(backend(), mergeEngine(), progress);
  }

  @Override
  public synchronized void close() {
    if (backend != null) {
      backend.close();
      backend = null;
    }
  }
}
