package dev.amalgam.model;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Projection;
import dev.amalgam.backend.Tensor;
import dev.amalgam.config.ModelConfig;
import java.util.List;

/**
 * The Qwen2 / Llama / Mistral decoder, written once against {@link Backend}:
 * <pre>
 *   x = embed(tokens)
 *   for each layer:  x += o_proj(attention(rope(q(norm(x))), rope(k(norm(x))), v(norm(x))))
 *                    x += down(silu(gate(norm(x))) * up(norm(x)))
 *   logits = lm_head(norm(x))
 * </pre>
 * Each call to {@link #forward} processes a set of rows, each a token of some sequence (a KV-cache slot) at
 * some position: a prefill is one slot at consecutive positions, a batched decode step one row per slot.
 */
public final class Transformer implements AutoCloseable {
  private final Backend backend;
  private final ModelSpec spec;
  private final ModelWeights weights;
  private final Tensor invFreq;
  private final float attentionScale;
  private final DecodeSteps decodeSteps;
  /** The prefill's scratch and logits, reallocated when the row count changes: a prefill is never recorded. */
  private Activations scratch;
  private Tensor logits;
  /** The rows of the final hidden state whose logits a prefill wants (each prompt's last), gathered. */
  private Tensor selected;

  public Transformer(Backend backend, ModelSpec spec, ModelWeights weights) {
    this.backend = backend;
    this.spec = spec;
    this.weights = weights;
    this.invFreq = backend.uploadFloats(spec.rope().inverseFrequencies(), spec.headDim() / 2);
    this.attentionScale = (float) (1.0 / Math.sqrt(spec.headDim()));
    this.decodeSteps = new DecodeSteps(backend, spec, (a, cache, out) -> issue(a, cache, out, null));
  }

  /** Validates {@code config} against the supported architectures, then uploads and checks every weight. */
  public static Transformer load(Backend backend, ModelConfig config, WeightSource weights) {
    ModelSpec spec = ModelSpec.from(config);
    return new Transformer(backend, spec, ModelWeights.load(backend, spec, weights));
  }

  public ModelSpec spec() {
    return spec;
  }

  public Backend backend() {
    return backend;
  }

  public ModelWeights weights() {
    return weights;
  }

  public KvCache newCache(int slots, int maxPositions) {
    return new KvCache(backend, spec, slots, maxPositions);
  }

  /** Prefills {@code tokens} into one slot from {@code start}; returns the last row's logits {@code [1, vocab]}. */
  public Tensor prefill(int[] tokens, KvCache cache, int slot, int start) {
    int[] slots = new int[tokens.length];
    int[] positions = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      slots[i] = slot;
      positions[i] = start + i;
    }
    return run(tokens, slots, positions, cache, new int[] {tokens.length - 1});
  }

  /**
   * Prefills several prompts in one forward pass, prompt {@code i} into slot {@code slots[i]} from position 0,
   * so their linear layers run as one matmul of all their rows. Returns logits {@code [prompts, vocab]}, row
   * {@code i} for the last token of prompt {@code i}; the tensor is reused by the next call.
   */
  public Tensor prefill(List<int[]> prompts, int[] slots, KvCache cache) {
    int rows = prompts.stream().mapToInt(p -> p.length).sum();
    int[] tokens = new int[rows];
    int[] rowSlots = new int[rows];
    int[] positions = new int[rows];
    int[] lastRows = new int[prompts.size()];
    int row = 0;
    for (int i = 0; i < prompts.size(); i++) {
      int[] prompt = prompts.get(i);
      for (int p = 0; p < prompt.length; p++, row++) {
        tokens[row] = prompt[p];
        rowSlots[row] = slots[i];
        positions[row] = p;
      }
      lastRows[i] = row - 1;
    }
    return run(tokens, rowSlots, positions, cache, lastRows);
  }

  /**
   * Runs the rows {@code (tokens[t], slots[t], positions[t])}, storing their keys and values in {@code cache}.
   * Returns logits {@code [rows, vocab]}, or {@code [1, vocab]} for the last row only when
   * {@code lastRowOnly} (a prefill needs no more). The tensor is reused by the next call.
   */
  public Tensor forward(int[] tokens, int[] slots, int[] positions, KvCache cache, boolean lastRowOnly) {
    return run(tokens, slots, positions, cache, lastRowOnly ? new int[] {tokens.length - 1} : null);
  }

  /** Runs the rows; returns the logits of {@code outputRows} in that order, or of every row when null. */
  private Tensor run(int[] tokens, int[] slots, int[] positions, KvCache cache, int[] outputRows) {
    Activations a = scratch(tokens.length);
    a.write(backend, tokens, slots, positions);
    Tensor out = logits(outputRows == null ? tokens.length : outputRows.length);
    issue(a, cache, out, outputRows);
    return out;
  }

  /**
   * One decode step: the same computation as {@code forward(tokens, slots, positions, cache, false)}, but
   * recorded once per row count with {@link Backend#record} (a CUDA graph) and rerun for every token. Returns
   * logits {@code [rows, vocab]}, reused by the next step of the same row count.
   */
  public Tensor decode(int[] tokens, int[] slots, int[] positions, KvCache cache) {
    return decodeSteps.run(tokens, slots, positions, cache);
  }

  /**
   * Issues the forward pass over the rows already written into {@code a}, through the backend ops that a
   * backend may fuse: the residual add closing each block with the norm that opens the next one
   * ({@link Backend#addRmsNorm}), q, k and v ({@link Backend#project}), RoPE with the KV-cache store
   * ({@link Backend#rotaryAttention}), and gate, up and SiLU ({@link Backend#swiGlu}).
   */
  private void issue(Activations a, KvCache cache, Tensor out, int[] outputRows) {
    List<LayerWeights> layers = weights.layers();
    backend.embedding(weights.embedTokens(), a.ids, a.residual);
    backend.rmsNorm(a.residual, layers.get(0).inputNorm(), spec.rmsNormEps(), a.normed);
    for (int i = 0; i < spec.numLayers(); i++) {
      LayerWeights layer = layers.get(i);
      attentionBlock(a, layer, cache.keys(i), cache.values(i));
      backend.addRmsNorm(a.residual, a.projected, layer.postAttentionNorm(), spec.rmsNormEps(), a.normed);
      mlpBlock(a, layer);
      Tensor nextNorm = i + 1 < spec.numLayers() ? layers.get(i + 1).inputNorm() : weights.finalNorm();
      backend.addRmsNorm(a.residual, a.projected, nextNorm, spec.rmsNormEps(), a.normed);
    }
    backend.linear(outputRows == null ? a.normed : select(a.normed, outputRows), weights.lmHead(), null, out);
  }

  /** The given rows of {@code hidden}, in that order, gathered so the LM head runs only on them; or hidden itself. */
  private Tensor select(Tensor hidden, int[] rows) {
    boolean everyRow = rows.length == hidden.rows();
    for (int i = 0; everyRow && i < rows.length; i++) {
      everyRow = rows[i] == i;
    }
    if (everyRow) {
      return hidden;
    }
    if (selected == null || selected.rows() != rows.length) {
      if (selected != null) {
        selected.close();
      }
      selected = backend.allocate(rows.length, spec.hiddenSize());
    }
    for (int i = 0; i < rows.length; i++) {
      backend.copyRows(hidden, rows[i], selected, i, 1);
    }
    return selected;
  }

  /** From the normed input to the output projection in {@code a.projected}, not yet added to the residual. */
  private void attentionBlock(Activations a, LayerWeights layer, Tensor kCache, Tensor vCache) {
    backend.project(a.normed, List.of(projection(layer.q(), a.q), projection(layer.k(), a.k),
        projection(layer.v(), a.v)));
    backend.rotaryAttention(a.q, a.k, a.v, invFreq, kCache, vCache, a.slots, a.positions, spec.numHeads(),
        spec.numKvHeads(), spec.headDim(), attentionScale, a.attention);
    linear(a.attention, layer.o(), a.projected);
  }

  /** From the normed input to the down projection in {@code a.projected}, not yet added to the residual. */
  private void mlpBlock(Activations a, LayerWeights layer) {
    backend.swiGlu(a.normed, projection(layer.gate(), a.gate), projection(layer.up(), a.up));
    linear(a.gate, layer.down(), a.projected);
  }

  private void linear(Tensor x, Linear layer, Tensor out) {
    backend.linear(x, layer.weight(), layer.bias(), out);
  }

  private static Projection projection(Linear layer, Tensor out) {
    return new Projection(layer.weight(), layer.bias(), out);
  }

  private Activations scratch(int rows) {
    if (scratch == null || scratch.rows != rows) {
      if (scratch != null) {
        scratch.close();
      }
      scratch = new Activations(backend, spec, rows);
    }
    return scratch;
  }

  private Tensor logits(int rows) {
    if (logits == null || logits.rows() != rows) {
      if (logits != null) {
        logits.close();
      }
      logits = backend.allocate(rows, spec.vocabSize());
    }
    return logits;
  }

  @Override
  public void close() {
    decodeSteps.close();
    if (scratch != null) {
      scratch.close();
    }
    if (logits != null) {
      logits.close();
    }
    if (selected != null) {
      selected.close();
    }
    invFreq.close();
    weights.close();
  }
}
