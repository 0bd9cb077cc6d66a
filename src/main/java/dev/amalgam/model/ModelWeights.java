package dev.amalgam.model;

import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model's tensors uploaded to a backend, each checked against the shape its architecture requires before
 * upload, so a mismatched checkpoint fails at load naming the tensor rather than deep inside a matmul.
 * {@code byName} holds the same tensors by their checkpoint names (a tied lm_head under the embedding's), for
 * whoever rewrites them in place: a sweep merges each point into the weights the model already has.
 */
public record ModelWeights(Tensor embedTokens, List<LayerWeights> layers, Tensor finalNorm, Tensor lmHead,
    Map<String, Tensor> byName) implements AutoCloseable {
  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,9})\\.");

  public static ModelWeights load(Backend backend, ModelSpec spec, WeightSource source) {
    checkNoLayerBeyond(spec.numLayers(), source);
    Loader loader = new Loader(backend, source);
    int hidden = spec.hiddenSize();
    Tensor embed = loader.tensor("model.embed_tokens.weight", spec.vocabSize(), hidden);
    List<LayerWeights> layers = new ArrayList<>();
    for (int i = 0; i < spec.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      layers.add(new LayerWeights(
          loader.tensor(p + "input_layernorm.weight", hidden),
          loader.linear(p + "self_attn.q_proj", spec.qDim(), hidden, spec.qkvBias()),
          loader.linear(p + "self_attn.k_proj", spec.kvDim(), hidden, spec.qkvBias()),
          loader.linear(p + "self_attn.v_proj", spec.kvDim(), hidden, spec.qkvBias()),
          loader.linear(p + "self_attn.o_proj", hidden, spec.qDim(), spec.outputBias()),
          loader.tensor(p + "post_attention_layernorm.weight", hidden),
          loader.linear(p + "mlp.gate_proj", spec.intermediateSize(), hidden, spec.mlpBias()),
          loader.linear(p + "mlp.up_proj", spec.intermediateSize(), hidden, spec.mlpBias()),
          loader.linear(p + "mlp.down_proj", hidden, spec.intermediateSize(), spec.mlpBias())));
    }
    Tensor norm = loader.tensor("model.norm.weight", hidden);
    Tensor head = spec.tiedEmbeddings() ? embed : loader.tensor("lm_head.weight", spec.vocabSize(), hidden);
    return new ModelWeights(embed, List.copyOf(layers), norm, head, Collections.unmodifiableMap(loader.loaded()));
  }

  /**
   * Frees every weight now (a tied lm_head is the embedding, closed once), rather than with the backend: a sweep
   * builds model after model on one backend.
   */
  @Override
  public void close() {
    embedTokens.close();
    for (LayerWeights layer : layers) {
      layer.inputNorm().close();
      layer.postAttentionNorm().close();
      for (Linear linear : layer.linears()) {
        linear.weight().close();
        if (linear.bias() != null) {
          linear.bias().close();
        }
      }
    }
    finalNorm.close();
    lmHead.close();
  }

  /**
   * A checkpoint with more layers than config.json names would run with the extra ones silently dropped:
   * refused, naming both counts.
   */
  private static void checkNoLayerBeyond(int numLayers, WeightSource source) {
    int highest = -1;
    for (String name : source.names()) {
      Matcher m = LAYER.matcher(name);
      if (m.lookingAt()) {
        highest = Math.max(highest, Integer.parseInt(m.group(1)));
      }
    }
    if (highest >= numLayers) {
      throw new UserError(source.description() + " holds layers 0 to " + highest + ", but config.json says "
          + "num_hidden_layers " + numLayers);
    }
  }

  /**
   * Bytes of weights one decode step reads, whatever its batch: every layer's tensors, the final norm and the
   * LM head, in the dtype the backend stores them. The embedding table is left out, since a step reads only
   * its rows for the step's tokens (unless tied, when it is read whole as the LM head).
   */
  public long bytesReadPerStep() {
    long bytes = bytes(finalNorm) + bytes(lmHead);
    for (LayerWeights layer : layers) {
      bytes += bytes(layer.inputNorm()) + bytes(layer.postAttentionNorm());
      for (Linear linear : layer.linears()) {
        bytes += bytes(linear.weight()) + (linear.bias() == null ? 0 : bytes(linear.bias()));
      }
    }
    return bytes;
  }

  /** Multiply-adds per token in the decoder layers' linear layers (the LM head, run for one row in prefill, not counted). */
  public long layerMultiplyAddsPerToken() {
    long n = 0;
    for (LayerWeights layer : layers) {
      for (Linear linear : layer.linears()) {
        n += elements(linear.weight());
      }
    }
    return n;
  }

  private static long bytes(Tensor t) {
    return elements(t) * t.dtype().byteSize();
  }

  private static long elements(Tensor t) {
    long n = 1;
    for (long d : t.shape()) {
      n *= d;
    }
    return n;
  }

  /** Places each weight on the backend, and keeps it by its checkpoint name, in load order. */
  private record Loader(Backend backend, WeightSource source, Map<String, Tensor> loaded) {
    Loader(Backend backend, WeightSource source) {
      this(backend, source, new LinkedHashMap<>());
    }

    Tensor tensor(String name, long... shape) {
      WeightSource.Weight weight = source.find(name).orElseThrow(() -> new UserError(
          "tensor `" + name + "` is missing from " + source.description()));
      if (!Arrays.equals(weight.shape(), shape)) {
        throw new UserError("tensor `" + name + "` in " + source.description() + " has shape "
            + Arrays.toString(weight.shape()) + ", but config.json implies " + Arrays.toString(shape));
      }
      if (!weight.dtype().isMergeable()) {
        throw new UserError("tensor `" + name + "` in " + source.description() + " is " + weight.dtype()
            + "; weights must be BF16, F16 or F32");
      }
      Tensor placed = weight.placeOn(backend);
      loaded.put(name, placed);
      return placed;
    }

    Linear linear(String prefix, int out, int in, boolean bias) {
      return new Linear(tensor(prefix + ".weight", out, in), bias ? tensor(prefix + ".bias", out) : null);
    }
  }
}
