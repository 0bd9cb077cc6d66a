package dev.amalgam.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.UserError;
import dev.amalgam.config.ModelConfig;
import java.util.List;

/**
 * What the Transformer needs from {@code config.json}, validated: anything the forward pass would silently get
 * wrong (an unknown architecture, sliding-window layers, another RoPE type) is refused here with a
 * {@link UserError} that names it.
 *
 * @param qkvBias q/k/v projections carry biases (Qwen2 always; Llama/Mistral when attention_bias)
 * @param outputBias o_proj carries a bias (Llama/Mistral attention_bias)
 * @param mlpBias gate/up/down projections carry biases (Llama mlp_bias)
 * @param attentionWindow the sliding window a Mistral config declares, or 0; positions past it are refused
 */
public record ModelSpec(Architecture architecture, int hiddenSize, int intermediateSize, int numLayers,
    int numHeads, int numKvHeads, int headDim, int vocabSize, float rmsNormEps, int maxPositions,
    boolean tiedEmbeddings, boolean qkvBias, boolean outputBias, boolean mlpBias, int attentionWindow,
    Rope rope) {

  public static ModelSpec from(ModelConfig config) {
    Architecture arch = architecture(config);
    JsonNode raw = config.raw();
    String act = raw.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new UserError("hidden_act `" + act + "` is not supported (only silu)");
    }
    int window = slidingWindow(arch, raw);
    int heads = config.numHeads();
    int kvHeads = config.numKvHeads();
    if (kvHeads <= 0 || heads % kvHeads != 0) {
      throw new UserError(heads + " attention heads cannot be grouped over " + kvHeads + " key/value heads");
    }
    boolean attentionBias = raw.path("attention_bias").asBoolean(false);
    int headDim = config.headDim();
    return new ModelSpec(arch, config.hiddenSize(), config.intermediateSize(), config.numLayers(), heads, kvHeads,
        headDim, config.vocabSize(), (float) config.rmsNormEps(), config.maxPositionEmbeddings(),
        config.tieWordEmbeddings(), arch == Architecture.QWEN2 || attentionBias,
        arch != Architecture.QWEN2 && attentionBias, raw.path("mlp_bias").asBoolean(false), window,
        Rope.from(config, headDim));
  }

  private static Architecture architecture(ModelConfig config) {
    List<String> names = config.architectures();
    if (names.isEmpty()) {
      throw new UserError(config.source() + " names no `architectures`; supported: " + Architecture.supportedNames());
    }
    return names.stream().map(Architecture::fromHf).flatMap(java.util.Optional::stream).findFirst()
        .orElseThrow(() -> new UserError("architecture " + names + " is not supported for generation; supported: "
            + Architecture.supportedNames()));
  }

  /** Sliding-window attention is refused where layers use it; a Mistral window merely bounds the context. */
  private static int slidingWindow(Architecture arch, JsonNode raw) {
    for (JsonNode type : raw.path("layer_types")) {
      if (!type.asText().equals("full_attention")) {
        throw new UserError("layer type `" + type.asText() + "` is not supported (only full_attention)");
      }
    }
    if (arch == Architecture.QWEN2 && raw.path("use_sliding_window").asBoolean(false)) {
      throw new UserError("use_sliding_window: true (sliding-window attention) is not supported");
    }
    JsonNode window = raw.get("sliding_window");
    return arch == Architecture.MISTRAL && window != null && window.canConvertToInt() ? window.asInt() : 0;
  }

  public int qDim() {
    return numHeads * headDim;
  }

  public int kvDim() {
    return numKvHeads * headDim;
  }

  /** The longest context this model can attend over: its position limit, or a Mistral window if smaller. */
  public int contextLimit() {
    return attentionWindow > 0 ? Math.min(maxPositions, attentionWindow) : maxPositions;
  }
}
