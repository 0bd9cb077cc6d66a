package dev.amalgam.cli;

import dev.amalgam.device.Device;
import dev.amalgam.device.DeviceChoice;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --cuda-graphs}, for the commands that generate or time generation ops. */
final class GenerationDeviceOptions {
  @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu", converter = DeviceChoiceConverter.class,
      description = "Where to compute: auto takes the GPU when usable (default: ${DEFAULT-VALUE}).")
  DeviceChoice device;

  @Mixin
  CudaGraphsOption cudaGraphs;

  /** The device these options choose; {@code notice} hears why {@code auto} fell back to the CPU. */
  Device open(Consumer<String> notice) {
    return Device.open(device, new Device.Settings(null, cudaGraphs.enabled()), "generating", notice);
  }
}
