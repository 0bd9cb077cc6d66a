package dev.amalgam.device;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.cuda.CudaAvailability;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.model.WeightSource;
import java.util.function.Consumer;

/**
 * One place to compute, the CPU or a GPU: its generation backend and its merge engines share it (on the GPU,
 * one CUDA context), so a merge can leave its results where generation reads them. Callers ask the device for
 * what they need and never which kind it is. Closing the device closes its backend.
 */
public interface Device extends AutoCloseable {
  /** What runs here, for messages and JSON: {@code cpu (2 threads)}, {@code NVIDIA H100 ...}. */
  String description();

  /** The generation backend on this device, opened on first use (on the GPU that compiles its kernels). */
  Backend backend();

  /** A new merge engine on this device; the caller closes it, the device stays open. */
  MergeEngine mergeEngine();

  /**
   * Merges {@code plan} into weights a model on {@link #backend} can be built from without touching disk: left
   * in GPU memory on the GPU, in host memory on the CPU. The caller closes the source once the model is
   * built, which frees what the model did not take over.
   */
  WeightSource mergeInMemory(MergePlan plan, MergeEngine.MergeProgress progress);

  /** A merger of a sweep's points on this device; the caller closes it before the device. */
  PointMerger pointMerger(MergeEngine.MergeProgress progress);

  @Override
  void close();

  /**
   * The device a {@code --device} choice names: {@code auto} takes the GPU when it is usable and otherwise
   * says once, through {@code notice}, why not ({@code activity} says what falls back: "merging", "generating");
   * {@code cuda} without a usable GPU is a user error naming the reason; {@code cpu} never touches CUDA.
   */
  static Device open(DeviceChoice choice, Settings settings, String activity, Consumer<String> notice) {
    if (choice != DeviceChoice.CPU) {
      CudaAvailability cuda = CudaAvailability.probe();
      if (cuda.available()) {
        return CudaDevice.open(0, settings.cudaGraphs());
      }
      if (choice == DeviceChoice.CUDA) {
        throw new UserError("--device cuda, but there is no GPU backend: " + cuda.reason());
      }
      notice.accept("note: no usable GPU (" + cuda.reason() + "); " + activity + " on the CPU");
    }
    return new CpuDevice(settings.cpuMergeThreads());
  }

  /**
   * How a device is opened.
   *
   * @param cpuMergeThreads threads of a CPU merge, or null for every core
   * @param cudaGraphs whether the CUDA backend replays decode steps as graphs
   */
  record Settings(Integer cpuMergeThreads, boolean cudaGraphs) {
    public static final Settings DEFAULT = new Settings(null, true);
  }
}
