package dev.amalgam.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.backend.cpu.CpuBackend;
import dev.amalgam.config.ModelConfig;
import dev.amalgam.io.ModelDirectory;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.Fixtures;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Configs and checkpoints the Transformer cannot run correctly must fail at load, saying why. */
class ModelValidationTest {
  private static final Path MODEL = Fixtures.A;

  private static ModelConfig config(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode json = (ObjectNode) new ObjectMapper().readTree(MODEL.resolve("config.json").toFile());
    edit.accept(json);
    return ModelConfig.parse(json.toString());
  }

  private static String refusal(Consumer<ObjectNode> edit) throws Exception {
    ModelConfig config = config(edit);
    return assertThrows(UserError.class, () -> ModelSpec.from(config)).getMessage();
  }

  @Test
  void acceptsTheTinyQwen2() throws Exception {
    ModelSpec spec = ModelSpec.from(config(json -> {}));
    assertEquals(Architecture.QWEN2, spec.architecture());
    assertTrue(spec.qkvBias() && !spec.outputBias());
    assertEquals(32, spec.headDim());
  }

  @Test
  void unknownArchitecture() throws Exception {
    String message = refusal(json -> json.putArray("architectures").add("GPTNeoXForCausalLM"));
    assertTrue(message.contains("GPTNeoXForCausalLM") && message.contains("Qwen2ForCausalLM"), message);
  }

  @Test
  void unsupportedRopeType() throws Exception {
    String message = refusal(json -> ((ObjectNode) json.get("rope_parameters")).put("rope_type", "yarn"));
    assertTrue(message.contains("yarn"), message);
  }

  @Test
  void slidingWindowInUse() throws Exception {
    assertTrue(refusal(json -> json.put("use_sliding_window", true)).contains("use_sliding_window"));
    String message = refusal(json -> ((com.fasterxml.jackson.databind.node.ArrayNode) json.get("layer_types"))
        .set(2, json.textNode("sliding_attention")));
    assertTrue(message.contains("sliding_attention"), message);
  }

  @Test
  void llama3RopeNeedsItsParameters() throws Exception {
    String message = refusal(json -> ((ObjectNode) json.get("rope_parameters")).put("rope_type", "llama3"));
    assertTrue(message.contains("factor"), message);
  }

  @Test
  void llama3InverseFrequenciesFollowTheThreeBands() throws Exception {
    ModelConfig config = config(json -> {
      json.putArray("architectures").add("LlamaForCausalLM");
      ObjectNode rope = json.putObject("rope_parameters");
      rope.put("rope_type", "llama3").put("rope_theta", 500000.0).put("factor", 8.0).put("low_freq_factor", 1.0)
          .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
    });
    ModelSpec spec = ModelSpec.from(config);
    float[] scaled = spec.rope().inverseFrequencies();
    float[] plain = new Rope("default", 500000.0, 32, 1, 0, 0, 0).inverseFrequencies();
    assertEquals(plain[0], scaled[0]); // short wavelengths untouched
    assertEquals(plain[15] / 8f, scaled[15]); // long wavelengths divided by the factor
    assertTrue(!spec.qkvBias() && !spec.outputBias());
  }

  @Test
  void wrongTensorShapeNamesTheTensor() {
    try (ModelDirectory dir = ModelDirectory.open(MODEL); CpuBackend backend = new CpuBackend()) {
      Map<String, HostTensor> tensors = inMemory(dir);
      HostTensor k = tensors.get("model.layers.1.self_attn.k_proj.weight");
      tensors.put(k.name(), new HostTensor(k.name(), k.dtype(), new long[] {128, 64}, k.data()));
      String message = assertThrows(UserError.class,
          () -> Transformer.load(backend, dir.config(), WeightSource.of(tensors, "test merge"))).getMessage();
      assertTrue(message.contains("model.layers.1.self_attn.k_proj.weight") && message.contains("[64, 128]"),
          message);
    }
  }

  @Test
  void missingTensorNamesTheTensor() {
    try (ModelDirectory dir = ModelDirectory.open(MODEL); CpuBackend backend = new CpuBackend()) {
      Map<String, HostTensor> tensors = inMemory(dir);
      tensors.remove("lm_head.weight");
      String message = assertThrows(UserError.class,
          () -> Transformer.load(backend, dir.config(), WeightSource.of(tensors, "test merge"))).getMessage();
      assertTrue(message.contains("lm_head.weight") && message.contains("test merge"), message);
    }
  }

  @Test
  void inMemoryWeightsGiveTheSameLogitsAsTheFolder() {
    try (ModelDirectory dir = ModelDirectory.open(MODEL); CpuBackend backend = new CpuBackend();
        Transformer fromDisk = Transformer.load(backend, dir.config(), WeightSource.of(dir));
        Transformer fromMemory = Transformer.load(backend, dir.config(), WeightSource.of(inMemory(dir), "merge"));
        KvCache c1 = fromDisk.newCache(1, 8); KvCache c2 = fromMemory.newCache(1, 8)) {
      int[] ids = {5, 17, 300};
      assertArrayEquals(backend.download(fromDisk.prefill(ids, c1, 0, 0)),
          backend.download(fromMemory.prefill(ids, c2, 0, 0)));
    }
  }

  static Map<String, HostTensor> inMemory(ModelDirectory dir) {
    Map<String, HostTensor> tensors = new LinkedHashMap<>();
    for (TensorInfo info : dir.tensors()) {
      tensors.put(info.name(), new HostTensor(info.name(), info.dtype(), info.shape(), dir.map(info)));
    }
    return tensors;
  }
}
