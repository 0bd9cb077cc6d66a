package dev.amalgam.cuda;

/**
 * Where the typed launchers ({@code NormKernels.rmsNorm(...)} and the like) send their launches: a CUDA stream
 * ({@link LoadedKernels#on}), or in the tests the CPU emulation, which runs the same .cu source with the same
 * grid and the same arguments. The launchers derive grids from shapes and this device's size, so the
 * emulation exercises exactly the geometry and the argument order the GPU gets.
 */
public interface KernelLauncher {
  /** Multiprocessors of the device, which grid-stride launches size their grids by. */
  int multiprocessors();

  /**
   * Enqueues {@code kernel} over {@code grid} with {@code args} in the kernel's parameter order, typed as
   * {@link KernelParam} says; a wrong count or type fails here, since the GPU would read it as garbage.
   */
  void launch(KernelSignature kernel, LaunchGrid grid, Object... args);
}
