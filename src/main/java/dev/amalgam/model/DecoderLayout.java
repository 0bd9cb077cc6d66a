package dev.amalgam.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors a Qwen2 / Llama-family decoder checkpoint holds, with HF names and shapes, in checkpoint order.
 * Which biases exist is the {@link ModelSpec}'s decision; tied models have no lm_head.
 */
public final class DecoderLayout {
  /** One expected tensor; {@code isNorm} marks RMSNorm weights, which are initialised to one. */
  public record Tensor(String name, long[] shape, boolean isNorm) {}

  private DecoderLayout() {}

  public static List<Tensor> of(ModelSpec spec) {
    long hidden = spec.hiddenSize();
    long intermediate = spec.intermediateSize();
    List<Tensor> tensors = new ArrayList<>();
    tensors.add(new Tensor("model.embed_tokens.weight", new long[] {spec.vocabSize(), hidden}, false));
    for (int i = 0; i < spec.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      tensors.add(new Tensor(p + "input_layernorm.weight", new long[] {hidden}, true));
      linear(tensors, p + "self_attn.q_proj", spec.qDim(), hidden, spec.qkvBias());
      linear(tensors, p + "self_attn.k_proj", spec.kvDim(), hidden, spec.qkvBias());
      linear(tensors, p + "self_attn.v_proj", spec.kvDim(), hidden, spec.qkvBias());
      linear(tensors, p + "self_attn.o_proj", hidden, spec.qDim(), spec.outputBias());
      tensors.add(new Tensor(p + "post_attention_layernorm.weight", new long[] {hidden}, true));
      linear(tensors, p + "mlp.gate_proj", intermediate, hidden, spec.mlpBias());
      linear(tensors, p + "mlp.up_proj", intermediate, hidden, spec.mlpBias());
      linear(tensors, p + "mlp.down_proj", hidden, intermediate, spec.mlpBias());
    }
    tensors.add(new Tensor("model.norm.weight", new long[] {hidden}, true));
    if (!spec.tiedEmbeddings()) {
      tensors.add(new Tensor("lm_head.weight", new long[] {spec.vocabSize(), hidden}, false));
    }
    return tensors;
  }

  private static void linear(List<Tensor> tensors, String prefix, long out, long in, boolean bias) {
    tensors.add(new Tensor(prefix + ".weight", new long[] {out, in}, false));
    if (bias) {
      tensors.add(new Tensor(prefix + ".bias", new long[] {out}, false));
    }
  }
}
