package dev.amalgam.device;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class GenerationBackendsTest {

  @Test
  void cudaGraphsFollowTheOptionUnlessTheEnvironmentTurnsThemOff() {
    assertTrue(GenerationBackends.cudaGraphs(true, Map.of()));
    assertFalse(GenerationBackends.cudaGraphs(false, Map.of()));
    assertFalse(GenerationBackends.cudaGraphs(true, Map.of("AMALGAM_CUDA_GRAPHS", "0")));
    assertFalse(GenerationBackends.cudaGraphs(true, Map.of("AMALGAM_CUDA_GRAPHS", " False ")));
    assertTrue(GenerationBackends.cudaGraphs(true, Map.of("AMALGAM_CUDA_GRAPHS", "1")));
    assertFalse(GenerationBackends.cudaGraphs(false, Map.of("AMALGAM_CUDA_GRAPHS", "1")));
  }
}
