package dev.amalgam.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.tensor.DType;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Both config.json formats in the wild are read, and written back in the format they came in. */
class ModelConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void transformers5Format() throws Exception {
    ModelConfig c = ModelConfig.read(Fixtures.A.resolve("config.json"));
    assertEquals(10000.0, c.ropeTheta());
    assertEquals("default", c.ropeType());
    assertEquals(4, c.numLayers());
    assertEquals(32, c.headDim());
    assertEquals(java.util.List.of(464), c.eosTokenIds());
    var written = JSON.readTree(c.withDType(DType.F16));
    assertEquals("float16", written.get("dtype").asText());
    assertFalse(written.has("torch_dtype"));
  }

  @Test
  void transformers4Format() throws Exception {
    ModelConfig c = ModelConfig.read(Path.of("examples/deepseek-r1-distill-qwen-1.5b.config.json"));
    assertEquals(10000.0, c.ropeTheta());
    assertEquals(28, c.numLayers());
    assertEquals(2, c.numKvHeads());
    assertEquals(128, c.headDim());
    assertEquals("bfloat16", c.dtypeName().orElseThrow());
    var written = JSON.readTree(c.withDType(DType.F32));
    assertEquals("float32", written.get("torch_dtype").asText());
    assertFalse(written.has("dtype"));
    assertTrue(written.has("rope_theta"));
  }

  @Test
  void llama3RopeScalingFromTheOldFormat() {
    ModelConfig c = ModelConfig.parse("{\"rope_theta\": 500000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", "
        + "\"factor\": 8.0}}");
    assertEquals("llama3", c.ropeType());
    assertEquals(500000.0, c.ropeTheta());
    assertEquals(8.0, c.ropeParameters().get("factor").asDouble());
  }
}
