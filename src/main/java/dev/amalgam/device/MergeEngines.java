package dev.amalgam.device;

import dev.amalgam.merge.CpuMergeEngine;
import dev.amalgam.merge.CudaMergeEngine;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.PlannedTensor;
import dev.amalgam.UserError;
import dev.amalgam.cuda.CudaAvailability;
import dev.amalgam.cuda.CudaContext;
import java.util.List;
import java.util.function.Consumer;

/** Picks the merge engine for a {@code --device} choice. */
public final class MergeEngines {
  private MergeEngines() {}

  /**
   * {@code auto} takes the GPU when it is usable and otherwise says once, through {@code notice}, why not;
   * {@code cuda} without a usable GPU is a user error; {@code cpu} never touches CUDA.
   */
  public static MergeEngine open(DeviceChoice choice, Integer threads, Consumer<String> notice) {
    if (choice != DeviceChoice.CPU) {
      CudaAvailability cuda = CudaAvailability.probe();
      if (cuda.available()) {
        return new ContextOwningEngine(CudaContext.open(0));
      }
      if (choice == DeviceChoice.CUDA) {
        throw new UserError("--device cuda, but there is no GPU backend: " + cuda.reason());
      }
      notice.accept("note: no usable GPU (" + cuda.reason() + "); merging on the CPU");
    }
    return threads == null ? new CpuMergeEngine() : new CpuMergeEngine(threads);
  }

  /** A CUDA engine that owns its context, for callers that merge and nothing else. */
  private static final class ContextOwningEngine implements MergeEngine {
    private final CudaContext context;
    private final CudaMergeEngine engine;

    ContextOwningEngine(CudaContext context) {
      this.context = context;
      try {
        this.engine = new CudaMergeEngine(context);
      } catch (RuntimeException e) {
        context.close();
        throw e;
      }
    }

    @Override
    public String device() {
      return engine.device();
    }

    @Override
    public void run(List<PlannedTensor> tensors, TensorSource inputs, MergeOutput output, MergeProgress progress) {
      engine.run(tensors, inputs, output, progress);
    }

    @Override
    public void close() {
      try {
        engine.close();
      } finally {
        context.close();
      }
    }
  }
}
