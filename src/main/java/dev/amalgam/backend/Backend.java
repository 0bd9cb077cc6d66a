package dev.amalgam.backend;

import dev.amalgam.tensor.HostTensor;
import java.util.List;

/**
 * The operations a decoder-only transformer needs, implemented once per device (libtorch on CPU, our own
 * kernels and cuBLAS on CUDA). The model is written once against this interface.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>Activations are 2-D, {@code [T, features]}: one row per token. {@code T} is the number of prompt
 *       tokens during prefill, or the number of sequences during (batched) decode. Per-row metadata
 *       (position, KV-cache slot) comes in int vectors of length {@code T}.
 *   <li>Weights are stored as in Hugging Face checkpoints: a linear layer's weight is
 *       {@code [out_features, in_features]}, biases and norm weights are 1-D.
 *   <li>Every op writes into an {@code out} tensor the caller allocated with the exact shape stated. Unless
 *       the javadoc says an argument may alias {@code out}, inputs and {@code out} are distinct tensors.
 *   <li>Arithmetic is at least as precise as the activation dtype, with float32 accumulation for sums and
 *       dot products.
 *   <li>Ops may run asynchronously in issue order (one stream); {@link #download} and {@link #sample}
 *       wait for all earlier work. This keeps a decode step capturable as a CUDA graph: its only host
 *       inputs are written with {@link #writeInts} into tensors allocated once.
 *   <li>Shape mismatches are programming errors: backends may check them and throw
 *       {@link IllegalArgumentException}.
 * </ul>
 */
public interface Backend extends AutoCloseable {

  /** Where the arithmetic runs, as shown to users: {@code cpu} or {@code cuda:0 (NVIDIA H100 ...)}. */
  String device();

  // ---- memory -----------------------------------------------------------------------------------------

  /**
   * Copies a weight to the device, converting BF16, F16 or F32 host bytes (little-endian) to the backend's
   * weight dtype. The host buffer is only read during the call.
   */
  Tensor upload(HostTensor weight);

  /** A float32 constant (for example RoPE inverse frequencies), kept in float32 on every backend. */
  Tensor uploadFloats(float[] values, long... shape);

  /** An activation tensor in the backend's activation dtype; its contents are undefined until written. */
  Tensor allocate(long... shape);

  /** A 1-D int32 vector of length {@code n} for token ids, positions or cache slots; contents undefined. */
  Tensor allocateInts(int n);

  /** Overwrites an int vector from {@link #allocateInts} with {@code values} (same length). */
  void writeInts(Tensor dst, int[] values);

  /**
   * One layer's key or value cache, {@code [slots, maxPositions, kvDim]} with {@code kvDim = numKvHeads *
   * headDim}. A slot holds one sequence; position {@code p} of slot {@code s} is row {@code s*maxPositions+p}.
   * Its dtype is the backend's choice; the contents are undefined until written by {@link #attention}.
   */
  Tensor allocateKvCache(int slots, int maxPositions, int kvDim);

  /** Copies {@code count} rows from {@code src} (starting at {@code srcRow}) into {@code dst} at {@code dstRow}. */
  void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count);

  /** Waits for pending work and returns a tensor's elements as float32, row-major. */
  float[] download(Tensor t);

  // ---- transformer ops ------------------------------------------------------------------------------

  /** {@code out[t] = table[ids[t]]}: table {@code [vocab, hidden]}, ids int {@code [T]}, out {@code [T, hidden]}. */
  void embedding(Tensor table, Tensor ids, Tensor out);

  /**
   * Root-mean-square norm of each row, as HF Qwen2/Llama: {@code out[t] = weight * x[t] / sqrt(mean(x[t]^2) +
   * eps)}, with the mean and the scaling computed in float32. x and out {@code [T, hidden]}, weight
   * {@code [hidden]}; {@code out} may alias {@code x}.
   */
  void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

  /**
   * {@code out = x · weightᵀ + bias}: x {@code [T, in]}, weight {@code [out, in]}, bias {@code [out]} or
   * null, out {@code [T, out]}.
   */
  void linear(Tensor x, Tensor weight, Tensor bias, Tensor out);

  /**
   * Several linear layers of the same input, each exactly as {@link #linear}: {@code p.out = x · p.weightᵀ +
   * p.bias} for every projection p (q, k and v of an attention block). A backend may compute them in one pass
   * over x; the CUDA backend does for decode-sized x. The outputs are distinct from x and from each other.
   */
  default void project(Tensor x, List<Projection> projections) {
    for (Projection p : projections) {
      linear(x, p.weight(), p.bias(), p.out());
    }
  }

  /**
   * The input half of a gated MLP: {@code gate.out = silu(x · gateᵀ + gate bias) * (x · upᵀ + up bias)},
   * exactly {@link #linear} for each, then {@link #siluMul}. {@code up.out} is scratch of the same shape whose
   * contents are undefined afterwards: the CUDA backend's fused kernel never writes it.
   */
  default void swiGlu(Tensor x, Projection gate, Projection up) {
    linear(x, gate.weight(), gate.bias(), gate.out());
    linear(x, up.weight(), up.bias(), up.out());
    siluMul(gate.out(), up.out(), gate.out());
  }

  /**
   * Rotary position embedding in place, rotate-half (NeoX) style as HF Qwen2/Llama. {@code x} is
   * {@code [T, heads * headDim]}; within each head, with {@code h = headDim / 2} and {@code i < h}:
   * <pre>
   *   angle = float32(positions[t]) * invFreq[i]          (float32 multiply, then cos/sin in float32)
   *   x'[i]     = x[i]     * cos(angle) - x[i + h] * sin(angle)
   *   x'[i + h] = x[i + h] * cos(angle) + x[i]     * sin(angle)
   * </pre>
   * {@code positions} is int {@code [T]}; {@code invFreq} is a float32 {@code [headDim / 2]} from
   * {@link #uploadFloats}, already holding any RoPE scaling (default, llama3).
   */
  void rope(Tensor x, Tensor positions, Tensor invFreq, int headDim);

  /**
   * Stores this step's keys and values in the cache, then computes causal multi-head attention with
   * grouped-query heads over the cached positions.
   *
   * <p>Shapes: q and out {@code [T, numHeads * headDim]}; k and v {@code [T, numKvHeads * headDim]} (RoPE
   * already applied to q and k); kCache and vCache from {@link #allocateKvCache}; slots and positions int
   * {@code [T]}. {@code numHeads} is a multiple of {@code numKvHeads}.
   *
   * <p>Semantics: first, for every row t, {@code kCache[slots[t], positions[t]] = k[t]} and likewise for v.
   * Then, for every row t and query head h, with kv head {@code g = h / (numHeads / numKvHeads)} and
   * {@code P = positions[t]}:
   * <pre>
   *   score[j] = scale * dot(q[t, h], kCache[slots[t], j, g])        for j = 0 .. P
   *   out[t, h] = Σ_j softmax(score)[j] * vCache[slots[t], j, g]     (softmax in float32)
   * </pre>
   * So prefill of T tokens is one slot with positions {@code start .. start+T-1}, and a batched decode step is
   * T different slots with one position each. Positions beyond P in a slot are never read.
   */
  void attention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots, Tensor positions,
      int numHeads, int numKvHeads, int headDim, float scale, Tensor out);

  /**
   * Rotates q and k in place by their rows' positions, then attends: exactly {@link #rope} of q, {@link #rope}
   * of k, then {@link #attention} with the same arguments. The CUDA backend rotates both and stores the keys
   * and values in the cache in one kernel.
   */
  default void rotaryAttention(Tensor q, Tensor k, Tensor v, Tensor invFreq, Tensor kCache, Tensor vCache,
      Tensor slots, Tensor positions, int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    rope(q, positions, invFreq, headDim);
    rope(k, positions, invFreq, headDim);
    attention(q, k, v, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, scale, out);
  }

  /**
   * SwiGLU: {@code out = silu(gate) * up} elementwise, {@code silu(x) = x / (1 + exp(-x))}; all {@code [T, n]}.
   * {@code out} may alias {@code gate} or {@code up}.
   */
  void siluMul(Tensor gate, Tensor up, Tensor out);

  /** {@code out = a + b} elementwise, same shapes; {@code out} may alias {@code a} (residual add). */
  void add(Tensor a, Tensor b, Tensor out);

  /**
   * The residual add and the norm after it: {@code residual = residual + delta}, then {@code out =
   * rmsNorm(residual)} as {@link #rmsNorm} defines it. All {@code [T, hidden]} but weight {@code [hidden]};
   * {@code out} is distinct from both inputs. Exactly {@link #add} then {@link #rmsNorm}; a backend may do it
   * in one pass over the row (the CUDA backend does, with the same arithmetic).
   */
  default void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
    add(residual, delta, residual);
    rmsNorm(residual, weight, eps, out);
  }

  // ---- repeated steps -------------------------------------------------------------------------------

  /**
   * Prepares {@code ops}, a fixed sequence of this backend's transformer ops on fixed tensors, to be issued
   * again and again, as a decode step is: the CUDA backend captures it once as a CUDA graph and replays it
   * with one launch; a backend without graphs just runs {@code ops} on each {@link StepGraph#run}.
   *
   * <p>Rules for {@code ops}: it issues only the transformer ops above (no allocation, {@link #writeInts},
   * {@link #download}, {@link #sample} or closing), and does the same thing every time. Inputs that change
   * between runs are int vectors rewritten with {@link #writeInts} before {@link StepGraph#run}. Recording may
   * run {@code ops} once (the CUDA backend does, to size its temporaries before capturing), so the tensors it
   * reads must already hold valid inputs and running it twice on the same inputs must do no harm, as is true of
   * a decode step (it overwrites its outputs and the cache rows of its own positions).
   */
  default StepGraph record(Runnable ops) {
    return StepGraph.eager(ops);
  }

  // ---- sampling -------------------------------------------------------------------------------------

  /**
   * Picks one token per row of {@code logits} ({@code [B, vocab]}) as {@link SamplingParams} specifies, so a
   * device backend can sample without copying the logits to the host.
   *
   * @param history for each row, the token ids seen so far (prompt and generated), read only when the
   *     repetition penalty is not 1
   * @param uniforms for each row, a number in [0, 1) from the caller's seeded generator, unused when greedy
   * @return {@code B} token ids, each inside the vocabulary
   * @throws NonFiniteLogitsException if a row holds NaN or an infinity
   */
  int[] sample(Tensor logits, SamplingParams params, int[][] history, double[] uniforms);

  /**
   * Readies this thread to run the backend's ops, where the backend was opened on another (a server's generation
   * loop): on the GPU, makes its context current here.
   */
  default void useOnThisThread() {}

  /** Frees every tensor this backend still holds, then the backend itself. */
  @Override
  void close();
}
