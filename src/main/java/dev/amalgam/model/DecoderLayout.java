package dev.amalgam.model;

import dev.amalgam.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The tensors a Qwen2 / Llama-family decoder checkpoint holds, with HF names and shapes, derived from its
 * config.json. Qwen2 adds q/k/v biases (Llama only with {@code attention_bias}); tied models have no lm_head.
 */
public final class DecoderLayout {
  /** One expected tensor; {@code isNorm} marks RMSNorm weights, which are initialised to one. */
  public record Tensor(String name, long[] shape, boolean isNorm) {}

  private DecoderLayout() {}

  public static List<Tensor> of(ModelConfig config) {
    long hidden = config.hiddenSize();
    long qDim = (long) config.numHeads() * config.headDim();
    long kvDim = (long) config.numKvHeads() * config.headDim();
    long intermediate = config.intermediateSize();
    long vocab = config.vocabSize();
    boolean bias = hasQkvBias(config);
    List<Tensor> tensors = new ArrayList<>();
    tensors.add(new Tensor("model.embed_tokens.weight", new long[] {vocab, hidden}, false));
    for (int i = 0; i < config.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      tensors.add(new Tensor(p + "input_layernorm.weight", new long[] {hidden}, true));
      tensors.add(new Tensor(p + "self_attn.q_proj.weight", new long[] {qDim, hidden}, false));
      tensors.add(new Tensor(p + "self_attn.k_proj.weight", new long[] {kvDim, hidden}, false));
      tensors.add(new Tensor(p + "self_attn.v_proj.weight", new long[] {kvDim, hidden}, false));
      if (bias) {
        tensors.add(new Tensor(p + "self_attn.q_proj.bias", new long[] {qDim}, false));
        tensors.add(new Tensor(p + "self_attn.k_proj.bias", new long[] {kvDim}, false));
        tensors.add(new Tensor(p + "self_attn.v_proj.bias", new long[] {kvDim}, false));
      }
      tensors.add(new Tensor(p + "self_attn.o_proj.weight", new long[] {hidden, qDim}, false));
      tensors.add(new Tensor(p + "post_attention_layernorm.weight", new long[] {hidden}, true));
      tensors.add(new Tensor(p + "mlp.gate_proj.weight", new long[] {intermediate, hidden}, false));
      tensors.add(new Tensor(p + "mlp.up_proj.weight", new long[] {intermediate, hidden}, false));
      tensors.add(new Tensor(p + "mlp.down_proj.weight", new long[] {hidden, intermediate}, false));
    }
    tensors.add(new Tensor("model.norm.weight", new long[] {hidden}, true));
    if (!config.tieWordEmbeddings()) {
      tensors.add(new Tensor("lm_head.weight", new long[] {vocab, hidden}, false));
    }
    return tensors;
  }

  /** Qwen2 always has q/k/v biases; Llama and Mistral only when {@code attention_bias} is set. */
  public static boolean hasQkvBias(ModelConfig config) {
    return config.modelType().equals("qwen2") || config.raw().path("attention_bias").asBoolean(false);
  }
}
