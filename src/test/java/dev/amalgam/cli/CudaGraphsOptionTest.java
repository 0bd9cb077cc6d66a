package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CudaGraphsOptionTest {

  @Test
  void cudaGraphsFollowTheOptionUnlessTheEnvironmentTurnsThemOff() {
    assertTrue(CudaGraphsOption.enabled(true, Map.of()));
    assertFalse(CudaGraphsOption.enabled(false, Map.of()));
    assertFalse(CudaGraphsOption.enabled(true, Map.of("AMALGAM_CUDA_GRAPHS", "0")));
    assertFalse(CudaGraphsOption.enabled(true, Map.of("AMALGAM_CUDA_GRAPHS", " False ")));
    assertTrue(CudaGraphsOption.enabled(true, Map.of("AMALGAM_CUDA_GRAPHS", "1")));
    assertFalse(CudaGraphsOption.enabled(false, Map.of("AMALGAM_CUDA_GRAPHS", "1")));
  }
}
