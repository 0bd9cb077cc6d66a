package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import java.util.stream.IntStream;

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
    return requiredInt("hidden_size", 1 << 20);
  }

  public int intermediateSize() {
    return requiredInt("intermediate_size", 1 << 22);
  }

  public int numLayers() {
    return requiredInt("num_hidden_layers", 100_000);
  }

  /** num_hidden_layers, or empty where the config does not say (some non-decoder models). */
  public Optional<Integer> numLayersIfKnown() {
    JsonNode n = raw.get("num_hidden_layers");
    return n != null && n.canConvertToInt() ? Optional.of(n.asInt()) : Optional.empty();
  }

  public int numHeads() {
    return requiredInt("num_attention_heads", 1 << 14);
  }

  public int numKvHeads() {
    return raw.hasNonNull("num_key_value_heads") ? requiredInt("num_key_value_heads", 1 << 14) : numHeads();
  }

  public int headDim() {
    return raw.hasNonNull("head_dim") ? requiredInt("head_dim", 1 << 14) : hiddenSize() / numHeads();
  }

  public int vocabSize() {
    return requiredInt("vocab_size", 1 << 26);
  }

  /** The norm's epsilon: a positive number below 1 (HF's default 1e-6). */
  public double rmsNormEps() {
    if (!raw.hasNonNull("rms_norm_eps")) {
      return 1e-6;
    }
    return number(raw.get("rms_norm_eps"), "rms_norm_eps", 0, 1);
  }

  public int maxPositionEmbeddings() {
    return raw.hasNonNull("max_position_embeddings") ? requiredInt("max_position_embeddings", 1 << 26) : 4096;
  }

  public boolean tieWordEmbeddings() {
    JsonNode n = raw.get("tie_word_embeddings");
    if (n != null && !n.isNull() && !n.isBoolean()) {
      throw new UserError(source + ": `tie_word_embeddings` must be true or false, not " + n);
    }
    return n != null && n.asBoolean();
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

  /** The RoPE base: a positive finite number (HF's default 10000). */
  public double ropeTheta() {
    JsonNode theta = ropeParameters().get("rope_theta");
    return theta == null || theta.isNull() ? 10000.0 : number(theta, "rope_theta", 0, Double.MAX_VALUE);
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
    return tokenIds(raw.get("eos_token_id"), source + ": `eos_token_id`");
  }

  /** Token ids given as one integer or a list of them; anything else is a user error naming {@code where}. */
  public static List<Integer> tokenIds(JsonNode node, String where) {
    List<Integer> ids = new ArrayList<>();
    if (node == null || node.isNull()) {
      return ids;
    }
    for (JsonNode n : node.isArray() ? node : List.of(node)) {
      if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
        throw new UserError(where + " must be token ids (integers from 0), not " + node);
      }
      ids.add(n.asInt());
    }
    return ids;
  }

  /**
   * This config for a model whose layer i is this model's layer {@code sourceLayers[i]} (a frankenmerge):
   * {@code num_hidden_layers} is their count, and every top-level list with one entry per layer
   * ({@code layer_types} and the like) follows the layers. mergekit leaves such lists at their old length, which
   * transformers then misreads.
   */
  public ModelConfig withLayers(List<Integer> sourceLayers) {
    Optional<Integer> layers = numLayersIfKnown();
    if (layers.isEmpty() || sourceLayers.size() == layers.get()
        && sourceLayers.equals(IntStream.range(0, layers.get()).boxed().toList())) {
      return this;
    }
    ObjectNode copy = raw.deepCopy();
    copy.put("num_hidden_layers", sourceLayers.size());
    raw.fields().forEachRemaining(field -> {
      if (field.getValue().isArray() && field.getValue().size() == layers.get()
          && !field.getKey().equals("architectures")) {
        ArrayNode remapped = copy.putArray(field.getKey());
        sourceLayers.forEach(layer -> remapped.add(field.getValue().get(layer)));
      }
    });
    return new ModelConfig(source, copy);
  }

  /** This config with {@code vocab_size} set to {@code rows}, for a merge over fewer embedding rows. */
  public ModelConfig withVocabSize(int rows) {
    ObjectNode copy = raw.deepCopy();
    copy.put("vocab_size", rows);
    return new ModelConfig(source, copy);
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

  /** An integer from 1 to {@code max}: a float (4.5, or 1e9 written as one) or a count out of range is refused. */
  private int requiredInt(String key, int max) {
    JsonNode n = raw.get(key);
    if (n == null || n.isNull()) {
      throw new UserError(source + " has no `" + key + "`");
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1 || n.asInt() > max) {
      throw new UserError(source + ": `" + key + "` must be an integer from 1 to " + max + ", not " + n);
    }
    return n.asInt();
  }

  /** A number in (low, high); text, NaN and the infinities are refused. */
  private double number(JsonNode n, String key, double low, double high) {
    if (!n.isNumber() || !Double.isFinite(n.asDouble()) || !(n.asDouble() > low) || !(n.asDouble() < high)) {
      throw new UserError(source + ": `" + key + "` must be a number above " + low
          + (high < Double.MAX_VALUE ? " and below " + high : "") + ", not " + n);
    }
    return n.asDouble();
  }
}
