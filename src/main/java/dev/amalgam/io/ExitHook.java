package dev.amalgam.io;

/**
 * A shutdown hook that an output registers for its own cleanup, so that Ctrl-C or SIGTERM still runs it, and
 * removes once the cleanup is moot (committed, or done by a normal close).
 */
final class ExitHook {
  private final Thread thread;

  ExitHook(Runnable cleanup) {
    this.thread = new Thread(cleanup, "amalgam-output-cleanup");
    Runtime.getRuntime().addShutdownHook(thread);
  }

  void remove() {
    try {
      Runtime.getRuntime().removeShutdownHook(thread);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or about to: it does the same cleanup.
    }
  }
}
