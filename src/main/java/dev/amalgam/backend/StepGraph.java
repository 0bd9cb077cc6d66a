package dev.amalgam.backend;

/**
 * A fixed sequence of backend ops prepared once by {@link Backend#record} and issued many times: the decode
 * step of one batch size. Each {@link #run} reads the tensors' contents at the time it runs, in issue order
 * with the backend's other ops.
 */
public interface StepGraph extends AutoCloseable {

  /** Issues the ops again. */
  void run();

  /** Frees what recording held (a CUDA graph and its temporaries); the tensors the ops use stay the caller's. */
  @Override
  void close();

  /** A step that issues the ops itself each time: backends without graphs, or with them turned off. */
  static StepGraph eager(Runnable ops) {
    return new StepGraph() {
      @Override
      public void run() {
        ops.run();
      }

      @Override
      public void close() {}
    };
  }
}
