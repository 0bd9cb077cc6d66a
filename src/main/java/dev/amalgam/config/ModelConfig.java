package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.BoundedJson;
import dev.amalgam.UserError;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A model's {@code config.json}, in either format found in the wild: transformers 4 ({@code torch_dtype},
 * top-level {@code rope_theta}) or transformers 5 ({@code dtype}, {@code rope_parameters}). The raw JSON is
 * kept so that a merge can write it back in the format it came in, changing only the dtype.
 */
public final class ModelConfig {
  /** config.json files are a few KB; the bound keeps a runaway file out of memory. */
  private static final long MAX_BYTES = 4L << 20;

  private final Path source;
  private final ObjectNode raw;

  private ModelConfig(Path source, ObjectNode raw) {
    this.source = source;
    this.raw = raw;
  }

  public static ModelConfig read(Path file) {
    if (!Files.exists(file)) {
      throw new UserError("missing " + file);
    }
    JsonNode node = BoundedJson.read(file, MAX_BYTES, "config.json");
    if (!(node instanceof ObjectNode object)) {
      throw new UserError(file + " is not a JSON object");
    }
    return new ModelConfig(file, object);
  }

  public static ModelConfig parse(String json) {
    if (!(BoundedJson.parse(json, "config.json") instanceof ObjectNode object)) {
      throw new UserError("config.json is not a JSON object");
    }
    return new ModelConfig(Path.of("config.json"), object);
  }

  public Path source() {
    return source;
  }

  public JsonNode raw() {
    return raw;
  }

  public List<String> architectures() {
    List<String> names = new ArrayList<>();
    raw.path("architectures").forEach(a -> names.add(a.asText()));
    return names;
  }

  public String modelType() {
    return raw.path("model_type").asText("");
  }

  public int hiddenSize() {
    return requiredInt("hidden_size");
  }

  public int intermediateSize() {
    return requiredInt("intermediate_size");
  }

  public int numLayers() {
    return requiredInt("num_hidden_layers");
  }

  /** num_hidden_layers, or empty where the config does not say (some non-decoder models). */
  public Optional<Integer> numLayersIfKnown() {
    JsonNode n = raw.get("num_hidden_layers");
    return n != null && n.canConvertToInt() ? Optional.of(n.asInt()) : Optional.empty();
  }

  public int numHeads() {
    return requiredInt("num_attention_heads");
  }

  public int numKvHeads() {
    JsonNode n = raw.get("num_key_value_heads");
    return n != null && !n.isNull() ? n.asInt() : numHeads();
  }

  public int headDim() {
    JsonNode n = raw.get("head_dim");
    return n != null && !n.isNull() ? n.asInt() : hiddenSize() / numHeads();
  }

  public int vocabSize() {
    return requiredInt("vocab_size");
  }

  public double rmsNormEps() {
    return raw.path("rms_norm_eps").asDouble(1e-6);
  }

  public int maxPositionEmbeddings() {
    return raw.path("max_position_embeddings").asInt(4096);
  }

  public boolean tieWordEmbeddings() {
    return raw.path("tie_word_embeddings").asBoolean(false);
  }

  /** RoPE parameters: transformers 5 keeps them in rope_parameters, transformers 4 at top level / rope_scaling. */
  public JsonNode ropeParameters() {
    JsonNode params = raw.get("rope_parameters");
    if (params != null && params.isObject()) {
      return params;
    }
    ObjectNode merged = JsonNodeFactory.instance.objectNode();
    JsonNode scaling = raw.get("rope_scaling");
    if (scaling != null && scaling.isObject()) {
      merged.setAll((ObjectNode) scaling);
    }
    if (raw.has("rope_theta")) {
      merged.set("rope_theta", raw.get("rope_theta"));
    }
    return merged;
  }

  public double ropeTheta() {
    return ropeParameters().path("rope_theta").asDouble(10000.0);
  }

  /** {@code default} where the config names no scaling. */
  public String ropeType() {
    JsonNode p = ropeParameters();
    String type = p.path("rope_type").asText(p.path("type").asText("default"));
    return type.isEmpty() ? "default" : type;
  }

  /** The dtype the checkpoint declares, if any. */
  public Optional<String> dtypeName() {
    JsonNode n = raw.has("dtype") ? raw.get("dtype") : raw.get("torch_dtype");
    return n == null || n.isNull() ? Optional.empty() : Optional.of(n.asText());
  }

  /** All EOS ids (config.json may hold an int or a list). */
  public List<Integer> eosTokenIds() {
    return intList(raw.get("eos_token_id"));
  }

  static List<Integer> intList(JsonNode node) {
    List<Integer> ids = new ArrayList<>();
    if (node == null || node.isNull()) {
      return ids;
    }
    if (node.isArray()) {
      node.forEach(n -> ids.add(n.asInt()));
    } else {
      ids.add(node.asInt());
    }
    return ids;
  }

  /** This config as JSON with its dtype set, using whichever key the original used. */
  public String withDType(DType dtype) {
    ObjectNode copy = raw.deepCopy();
    boolean hasNew = copy.has("dtype");
    boolean hasOld = copy.has("torch_dtype");
    if (hasNew) {
      copy.put("dtype", dtype.torchName());
    }
    if (hasOld || (!hasNew && !copy.has("rope_parameters"))) {
      copy.put("torch_dtype", dtype.torchName());
    }
    if (!hasNew && !hasOld && copy.has("rope_parameters")) {
      copy.put("dtype", dtype.torchName());
    }
    return HfJson.write(copy);
  }

  private int requiredInt(String key) {
    JsonNode n = raw.get(key);
    if (n == null || !n.canConvertToInt()) {
      throw new UserError(source + " has no integer `" + key + "`");
    }
    return n.asInt();
  }
}
