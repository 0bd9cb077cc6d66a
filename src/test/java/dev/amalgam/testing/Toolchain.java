package dev.amalgam.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the tests that need a tool (g++ for the kernel emulators, nvcc for the compile check, a Slurm cluster) do
 * when it is missing: skip on a developer's machine, fail in CI. {@code .ci/run} sets {@code AMALGAM_REQUIRE_TOOLCHAIN=1},
 * so CI cannot go green by skipping the tests that execute the kernels.
 */
public final class Toolchain {
  private Toolchain() {}

  /** Whether a missing tool fails the test instead of skipping it. */
  public static boolean required() {
    return "1".equals(System.getenv("AMALGAM_REQUIRE_TOOLCHAIN"));
  }

  /** Skips the calling test unless {@code present}, or fails it where the toolchain is required. */
  public static void require(boolean present, String what) {
    if (required()) {
      assertTrue(present, what + " is missing, and AMALGAM_REQUIRE_TOOLCHAIN=1 requires it");
    } else {
      assumeTrue(present, what + " is missing");
    }
  }
}
