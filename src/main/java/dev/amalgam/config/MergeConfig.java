package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.amalgam.BoundedText;
import dev.amalgam.UserError;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A mergekit YAML merge config. The schema is declared here, in one place, and anything outside it is an
 * error with a suggestion: mergekit ignores unknown keys, and its users find their typos hours later.
 */
public record MergeConfig(
    Path file,
    String yamlText,
    String mergeMethod,
    Optional<ModelRef> baseModel,
    List<ModelEntry> models,
    List<Slice> slices,
    Optional<DType> dtype,
    Optional<DType> outDType,
    Map<String, ParameterValue> parameters,
    OptionalLong randomSeed,
    Optional<TokenizerSource> tokenizer,
    Optional<String> chatTemplate) {

  /**
   * The keys amalgam reads; {@code random_seed} is amalgam's (mergekit takes {@code --random-seed} on its
   * command line only), so that a merged model's mergekit_config.yml says how to repeat a random merge.
   */
  static final Set<String> TOP_LEVEL_KEYS = Set.of("models", "slices", "merge_method", "base_model", "dtype",
      "out_dtype", "parameters", "random_seed", "tokenizer_source", "tokenizer", "chat_template");
  /** mergekit keys that amalgam understands but does not implement yet: refused, not ignored. */
  static final Set<String> UNSUPPORTED_KEYS = Set.of("modules");

  /**
   * Where the output's vocabulary comes from ({@code tokenizer_source}, or {@code tokenizer.source}): {@code base},
   * {@code union}, or one model's ({@code model}); {@code padToMultipleOf} rounds the embedding rows up (1: not).
   */
  public record TokenizerSource(String kind, Optional<ModelRef> model, int padToMultipleOf) {
    public static final String BASE = "base";
    public static final String UNION = "union";
    public static final String MODEL = "model";
  }

  /** A model as written in the config and the folder it resolves to (relative to the config's folder). */
  public record ModelRef(String written, Path path) {}

  public record ModelEntry(ModelRef model, Map<String, ParameterValue> parameters) {}

  /**
   * One slice of a {@code slices:} config: layers {@code [start, end)} of each source, merged into as many
   * consecutive output layers; {@code parameters} default those of its sources before the top-level ones.
   */
  public record Slice(List<SliceSource> sources, Map<String, ParameterValue> parameters) {
    public int layers() {
      return sources.get(0).end() - sources.get(0).start();
    }
  }

  /** A slice's source: a model with its parameters, and its {@code layer_range: [start, end]} (end excluded). */
  public record SliceSource(ModelEntry entry, int start, int end) {}


  public static MergeConfig load(Path file) {
    if (Files.isDirectory(file)) {
      throw new UserError("merge config " + file + " is a folder, not a YAML file");
    }
    return parse(file, BoundedText.read(file, YamlDocument.MAX_BYTES, "merge config"));
  }

  public static MergeConfig parse(Path file, String yamlText) {
    JsonNode root = YamlDocument.parse(file, yamlText);
    if (root == null || !root.isObject()) {
      throw new UserError(file + " must be a YAML mapping with `models` and `merge_method`");
    }
    checkKeys(root);
    Path folder = file.toAbsolutePath().getParent();

    String method = required(root, "merge_method").asText();
    if (root.has("models") == root.has("slices")) {
      throw new UserError(root.has("models") ? "the config has both `models` and `slices`; use one of them"
          : "the config has no `models` (or `slices`)");
    }
    List<ModelEntry> models = new ArrayList<>();
    List<Slice> slices = new ArrayList<>();
    if (root.has("models")) {
      JsonNode modelsNode = root.get("models");
      if (!modelsNode.isArray() || modelsNode.isEmpty()) {
        throw new UserError("`models` must be a non-empty list of {model, parameters}");
      }
      for (int i = 0; i < modelsNode.size(); i++) {
        models.add(modelEntry(modelsNode.get(i), "models[" + i + "]", folder));
      }
    } else {
      JsonNode slicesNode = root.get("slices");
      if (!slicesNode.isArray() || slicesNode.isEmpty()) {
        throw new UserError("`slices` must be a non-empty list of {sources: [{model, layer_range, parameters}]}");
      }
      for (int i = 0; i < slicesNode.size(); i++) {
        slices.add(slice(slicesNode.get(i), "slices[" + i + "]", folder));
      }
    }
    Optional<ModelRef> base = root.hasNonNull("base_model")
        ? Optional.of(modelRef(root.get("base_model"), "base_model", folder))
        : Optional.empty();
    Map<String, ParameterValue> parameters = root.has("parameters")
        ? parameters(root.get("parameters"), "parameters")
        : Map.of();
    return new MergeConfig(file, yamlText, method, base, models, slices,
        dtype(root, "dtype"), dtype(root, "out_dtype"), parameters, randomSeed(root), tokenizer(root, folder),
        chatTemplate(root));
  }

  /**
   * This config with {@code seed} as its random seed, as {@code --random-seed} gives it: the text gains a
   * {@code random_seed} line where it has none; a different one already there is a conflict.
   */
  public MergeConfig withRandomSeed(long seed) {
    if (randomSeed.isPresent()) {
      if (randomSeed.getAsLong() != seed) {
        throw new UserError("the config sets random_seed: " + randomSeed.getAsLong() + " and the command line "
            + seed + "; remove one of them");
      }
      return this;
    }
    String text = yamlText.endsWith("\n") || yamlText.isEmpty() ? yamlText : yamlText + "\n";
    return new MergeConfig(file, text + "random_seed: " + seed + "\n", mergeMethod, baseModel, models, slices,
        dtype, outDType, parameters, OptionalLong.of(seed), tokenizer, chatTemplate);
  }

  /** The dtype the merged tensors are written in: out_dtype, else dtype, else empty (then the inputs'). */
  public Optional<DType> outputDType() {
    return outDType.isPresent() ? outDType : dtype;
  }

  /** Where config.json and the tokenizer come from: the base model, else the first model (or first slice's). */
  public ModelRef templateModel() {
    return baseModel.orElse(models.isEmpty() ? slices.get(0).sources().get(0).entry().model() : models.get(0).model());
  }

  /** Every model entry the config lists: its models, or its slices' sources. */
  public List<ModelEntry> listedModels() {
    return models.isEmpty() ? slices.stream().flatMap(s -> s.sources().stream()).map(SliceSource::entry).toList()
        : models;
  }

  private static void checkKeys(JsonNode root) {
    root.fieldNames().forEachRemaining(key -> {
      if (UNSUPPORTED_KEYS.contains(key)) {
        throw new UserError("`" + key + "` is a mergekit option amalgam does not support yet");
      }
      if (key.equals("normalize")) {
        throw new UserError("`normalize` belongs under `parameters:` (parameters: {normalize: true}); mergekit "
            + "silently ignores it at the top level");
      }
      if (!TOP_LEVEL_KEYS.contains(key)) {
        throw new UserError("unknown key `" + key + "`" + Suggestions.hint(key, TOP_LEVEL_KEYS)
            + " (known keys: " + String.join(", ", TOP_LEVEL_KEYS.stream().sorted().toList()) + ")");
      }
    });
  }

  private static Slice slice(JsonNode node, String where, Path folder) {
    if (!node.isObject()) {
      throw new UserError(where + " must be {sources: [{model, layer_range, parameters}], parameters: {...}}");
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!key.equals("sources") && !key.equals("parameters")) {
        throw new UserError("unknown key `" + key + "` in " + where + Suggestions.hint(key, List.of("sources", "parameters"))
            + (key.equals("base_model") ? " (set base_model at the top level)" : ""));
      }
    });
    JsonNode sourcesNode = node.get("sources");
    if (sourcesNode == null || !sourcesNode.isArray() || sourcesNode.isEmpty()) {
      throw new UserError(where + ".sources must be a non-empty list of {model, layer_range, parameters}");
    }
    List<SliceSource> sources = new ArrayList<>();
    for (int i = 0; i < sourcesNode.size(); i++) {
      String at = where + ".sources[" + i + "]";
      JsonNode source = sourcesNode.get(i);
      if (!source.isObject() || !source.has("layer_range")) {
        throw new UserError(at + " must be {model, layer_range: [start, end], parameters}");
      }
      JsonNode range = source.get("layer_range");
      if (!range.isArray() || range.size() != 2 || !range.get(0).canConvertToInt() || !range.get(1).canConvertToInt()
          || !range.get(0).isIntegralNumber() || !range.get(1).isIntegralNumber()
          || range.get(0).asInt() < 0 || range.get(1).asInt() <= range.get(0).asInt()) {
        throw new UserError(at + ".layer_range must be [start, end] with 0 <= start < end (end excluded), not " + range);
      }
      ObjectNode entry = ((ObjectNode) source).deepCopy();
      entry.remove("layer_range");
      sources.add(new SliceSource(modelEntry(entry, at, folder), range.get(0).asInt(), range.get(1).asInt()));
      if (sources.get(i).end() - sources.get(i).start() != sources.get(0).end() - sources.get(0).start()) {
        throw new UserError(at + ".layer_range " + range + " has " + (range.get(1).asInt() - range.get(0).asInt())
            + " layers, and " + where + ".sources[0]'s has " + (sources.get(0).end() - sources.get(0).start())
            + "; the sources of a slice are merged layer by layer, so they must have as many");
      }
    }
    Map<String, ParameterValue> parameters = node.has("parameters")
        ? parameters(node.get("parameters"), where + ".parameters")
        : Map.of();
    return new Slice(sources, parameters);
  }

  private static ModelEntry modelEntry(JsonNode node, String where, Path folder) {
    if (node.isTextual()) {
      return new ModelEntry(modelRef(node, where, folder), Map.of());
    }
    if (!node.isObject()) {
      throw new UserError(where + " must be {model: PATH, parameters: {...}}");
    }
    node.fieldNames().forEachRemaining(key -> {
      if (!key.equals("model") && !key.equals("parameters")) {
        throw new UserError("unknown key `" + key + "` in " + where + Suggestions.hint(key, List.of("model", "parameters")));
      }
    });
    if (!node.hasNonNull("model")) {
      throw new UserError(where + " has no `model`");
    }
    Map<String, ParameterValue> parameters = node.has("parameters")
        ? parameters(node.get("parameters"), where + ".parameters")
        : Map.of();
    return new ModelEntry(modelRef(node.get("model"), where + ".model", folder), parameters);
  }

  private static ModelRef modelRef(JsonNode node, String where, Path folder) {
    if (!node.isTextual() || node.asText().isBlank()) {
      throw new UserError(where + " must be a path to a model folder");
    }
    String written = node.asText();
    Path path = folder.resolve(written).normalize();
    if (!Files.isDirectory(path)) {
      throw new UserError(where + ": model folder `" + written + "` not found (looked at " + path + ")");
    }
    return new ModelRef(written, path);
  }

  private static Map<String, ParameterValue> parameters(JsonNode node, String where) {
    if (node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new UserError(where + " must be a mapping of parameter names to values");
    }
    Map<String, ParameterValue> values = new LinkedHashMap<>();
    node.fields().forEachRemaining(f -> values.put(f.getKey(), ParameterValue.parse(f.getValue(), where + "." + f.getKey())));
    return values;
  }

  private static Optional<DType> dtype(JsonNode root, String key) {
    if (!root.hasNonNull(key)) {
      return Optional.empty();
    }
    String name = root.get(key).asText();
    return Optional.of(DType.fromTorchName(name).orElseThrow(() -> new UserError(
        "unsupported " + key + " `" + name + "`" + Suggestions.hint(name, List.of("bfloat16", "float16", "float32"))
            + " (use bfloat16, float16 or float32)")));
  }

  /** {@code tokenizer_source: SOURCE}, or {@code tokenizer: {source: SOURCE, pad_to_multiple_of: N}}. */
  private static Optional<TokenizerSource> tokenizer(JsonNode root, Path folder) {
    if (root.has("tokenizer_source") && root.has("tokenizer")) {
      throw new UserError("the config has both `tokenizer_source` and `tokenizer`; mergekit takes one of them");
    }
    if (root.hasNonNull("tokenizer_source")) {
      return Optional.of(tokenizerSource(root.get("tokenizer_source"), "tokenizer_source", 1, folder));
    }
    if (!root.hasNonNull("tokenizer")) {
      return Optional.empty();
    }
    JsonNode node = root.get("tokenizer");
    if (!node.isObject()) {
      throw new UserError("`tokenizer` must be {source: base|union|MODEL, pad_to_multiple_of: N}");
    }
    node.fieldNames().forEachRemaining(key -> {
      if (key.equals("tokens")) {
        throw new UserError("tokenizer.tokens is a mergekit option amalgam does not support yet");
      }
      if (!key.equals("source") && !key.equals("pad_to_multiple_of")) {
        throw new UserError("unknown key `" + key + "` in tokenizer"
            + Suggestions.hint(key, List.of("source", "pad_to_multiple_of")));
      }
    });
    int pad = 1;
    if (node.hasNonNull("pad_to_multiple_of")) {
      JsonNode n = node.get("pad_to_multiple_of");
      if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) {
        throw new UserError("tokenizer.pad_to_multiple_of must be a whole number of 1 or more, not " + n);
      }
      pad = n.asInt();
    }
    JsonNode source = node.hasNonNull("source") ? node.get("source") : new TextNode(TokenizerSource.UNION);
    return Optional.of(tokenizerSource(source, "tokenizer.source", pad, folder));
  }

  private static TokenizerSource tokenizerSource(JsonNode node, String where, int pad, Path folder) {
    if (!node.isTextual() || node.asText().isBlank()) {
      throw new UserError(where + " must be base, union or a model path, not " + node);
    }
    String text = node.asText();
    if (text.equals(TokenizerSource.BASE) || text.equals(TokenizerSource.UNION)) {
      return new TokenizerSource(text, Optional.empty(), pad);
    }
    return new TokenizerSource(TokenizerSource.MODEL, Optional.of(modelRef(node, where, folder)), pad);
  }

  /** {@code chat_template}: auto, or a Jinja template's text. */
  private static Optional<String> chatTemplate(JsonNode root) {
    if (!root.hasNonNull("chat_template")) {
      return Optional.empty();
    }
    JsonNode node = root.get("chat_template");
    if (!node.isTextual()) {
      throw new UserError("chat_template must be auto or a Jinja template's text, not " + node);
    }
    return Optional.of(node.asText());
  }

  private static OptionalLong randomSeed(JsonNode root) {
    if (!root.hasNonNull("random_seed")) {
      return OptionalLong.empty();
    }
    JsonNode node = root.get("random_seed");
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < 0) {
      throw new UserError("random_seed must be a whole number from 0 to " + Long.MAX_VALUE + ", not " + node);
    }
    return OptionalLong.of(node.asLong());
  }

  private static JsonNode required(JsonNode root, String key) {
    JsonNode node = root.get(key);
    if (node == null || node.isNull()) {
      throw new UserError("the config has no `" + key + "`");
    }
    return node;
  }
}
