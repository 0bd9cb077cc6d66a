package dev.amalgam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.UserError;
import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Projection;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.StepGraph;
import dev.amalgam.backend.Tensor;
import dev.amalgam.model.ModelSpec;
import dev.amalgam.model.RandomCheckpoint;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.HostTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Times each op of a decode step and of a prefill on its own, at a model's shapes with random weights, and
 * holds each against the ceiling that bounds it, measured in the same run: the copy bandwidth for the ops
 * that stream weights or the KV cache, the throughput of a large matmul for the prefill's matmuls and
 * attention. On the CUDA backend each op is a kernel or two, so this is the per-kernel table of the docs.
 *
 * <p>Each op is issued {@code calls} times inside one recorded step ({@link Backend#record}: a CUDA graph on
 * the GPU, as a decode step runs), and the replay is timed, best of three. Weights and caches come in enough
 * copies that consecutive calls read different memory, as the 28 distinct layers of a real step do, rather
 * than finding the last call's bytes in the GPU's L2 or the CPU's L3.
 */
public final class KernelBenchmark {
  /** Bytes each timed op cycles through: several times the largest cache here (an H100's L2 holds 50 MB). */
  private static final long FLUSH_BYTES = 256L << 20;
  /** Bounds the copies (and so the calls per timing) of small data, such as a short KV cache. */
  private static final int MAX_COPIES = 256;
  private static final int ROUNDS = 3;
  /** The matmul ceiling is a linear layer of MATMUL_SIZE x MATMUL_SIZE over the prefill's rows. */
  private static final int MATMUL_SIZE = 4096;
  private static final float WEIGHT_HALF_WIDTH = 0.03f;
  private static final String DECODE = "decode";
  private static final String PREFILL = "prefill";

  /**
   * @param batches decode row counts (sequences per step) to time
   * @param context positions each decode row attends to
   * @param prefillRows prompt tokens of the timed prefill, or 0 for none
   * @param calls calls per timing, raised where more weight copies are needed to leave the cache
   */
  public record Options(ModelSpec spec, List<Integer> batches, int context, int prefillRows, int calls, long seed,
      long bandwidthBufferBytes) {
    public Options {
      if (batches.isEmpty() || batches.stream().anyMatch(b -> b < 1)) {
        throw new UserError("--batch sizes must be at least 1, got " + batches);
      }
      if (context < 1 || context > spec.contextLimit()) {
        throw new UserError("--context must be between 1 and the model's " + spec.contextLimit() + ", got " + context);
      }
      if (prefillRows < 0 || prefillRows > spec.contextLimit()) {
        throw new UserError("--prefill must be between 0 and the model's context of " + spec.contextLimit()
            + ", got " + prefillRows);
      }
      if (calls < 1) {
        throw new UserError("--calls must be at least 1, got " + calls);
      }
      batches = List.copyOf(batches);
    }
  }

  private final Backend backend;
  private final Options options;
  private final ModelSpec spec;
  private final Consumer<String> log;
  private final SplittableRandom random;

  public KernelBenchmark(Backend backend, Options options, Consumer<String> log) {
    this.backend = backend;
    this.options = options;
    this.spec = options.spec();
    this.log = log;
    this.random = new SplittableRandom(options.seed());
  }

  public ObjectNode run() {
    ObjectNode result = new ObjectMapper().createObjectNode();
    result.put("benchmark", "kernels");
    result.put("device", backend.device());
    result.put("context", options.context()).put("prefill_rows", options.prefillRows());
    result.put("calls", options.calls());
    ObjectNode ceilings = result.putObject("ceilings");
    log.accept("measuring copy bandwidth over " + options.bandwidthBufferBytes() / 1e6 + " MB");
    double bandwidth = MemoryBandwidth.measure(backend, options.bandwidthBufferBytes());
    ceilings.put("memory_bandwidth_gb_s", bandwidth / 1e9);
    ArrayNode ops = result.putArray("ops");
    for (int rows : options.batches()) {
      log.accept("decode ops, " + rows + " row" + (rows == 1 ? "" : "s"));
      decodeOps(rows, ops);
    }
    if (options.prefillRows() > 0) {
      log.accept("prefill ops, " + options.prefillRows() + " rows");
      double matmul = matmulCeiling();
      ceilings.put("matmul_tflop_s", matmul / 1e12);
      ceilings.put("matmul_shape", options.prefillRows() + " x " + MATMUL_SIZE + " x " + MATMUL_SIZE);
      prefillOps(options.prefillRows(), ops);
    }
    for (var op : ops) {
      ObjectNode o = (ObjectNode) op;
      if (o.has("gb_s")) {
        o.put("of_bandwidth", o.get("gb_s").asDouble() * 1e9 / bandwidth);
      }
      if (o.has("tflop_s") && ceilings.has("matmul_tflop_s")) {
        o.put("of_matmul", o.get("tflop_s").asDouble() / ceilings.get("matmul_tflop_s").asDouble());
      }
    }
    return result;
  }

  /** The ops of one decode step over {@code rows} sequences, each against the copy bandwidth. */
  private void decodeOps(int rows, ArrayNode out) {
    layerLinears(out, true, rows);
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, spec.hiddenSize());
      Tensor logits = h.empty(rows, spec.vocabSize());
      int c = copies(2L * spec.vocabSize() * spec.hiddenSize());
      Tensor[] w = h.weights(c, spec.vocabSize(), spec.hiddenSize());
      time(out, DECODE, rows, "lm_head", "LM head (Backend.linear)", c, bytes(w[0]), 0,
          i -> backend.linear(x, w[i], null, logits));
      int[][] histories = new int[rows][0];
      double[] uniforms = new double[rows];
      timeEager(out, rows, "sample", "greedy pick of each row's token, with its wait (Backend.sample)",
          4.0 * rows * spec.vocabSize(), () -> backend.sample(logits, SamplingParams.GREEDY, histories, uniforms));
    }
    try (Held h = new Held()) {
      int hidden = spec.hiddenSize();
      Tensor residual = h.activation(rows, hidden);
      Tensor delta = h.activation(rows, hidden);
      Tensor normed = h.empty(rows, hidden);
      Tensor[] weight = h.weights(1, hidden);
      // Reads residual and delta, writes residual and the normed output.
      time(out, DECODE, rows, "add_rms_norm", "residual add, then RMSNorm (Backend.addRmsNorm)", 1,
          4.0 * rows * hidden * 4 + bytes(weight[0]), 0,
          i -> backend.addRmsNorm(residual, delta, weight[0], spec.rmsNormEps(), normed));
    }
    int context = options.context();
    int[] slots = new int[rows];
    int[] positions = new int[rows];
    Arrays.setAll(slots, r -> r);
    Arrays.fill(positions, context - 1);
    rotaryAttention(out, true, slots, positions, rows, context);
  }

  /** The matmuls and attention of a prefill of {@code rows} tokens, each against the matmul ceiling. */
  private void prefillOps(int rows, ArrayNode out) {
    layerLinears(out, false, rows);
    int[] positions = new int[rows];
    Arrays.setAll(positions, t -> t);
    rotaryAttention(out, false, new int[rows], positions, 1, rows);
  }

  /**
   * A layer's linear ops on {@code rows} rows: in a decode step against the copy bandwidth, with enough weight
   * copies to leave the cache; in a prefill against the matmul ceiling.
   */
  private void layerLinears(ArrayNode out, boolean decode, int rows) {
    String phase = decode ? DECODE : PREFILL;
    int hidden = spec.hiddenSize();
    int inter = spec.intermediateSize();
    long qkvFeatures = spec.qDim() + 2L * spec.kvDim();
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, hidden);
      Tensor[] outs = {h.empty(rows, spec.qDim()), h.empty(rows, spec.kvDim()), h.empty(rows, spec.kvDim())};
      int c = decode ? copies(2L * qkvFeatures * hidden) : 1;
      Tensor[] wq = h.weights(c, spec.qDim(), hidden);
      Tensor[] wk = h.weights(c, spec.kvDim(), hidden);
      Tensor[] wv = h.weights(c, spec.kvDim(), hidden);
      Tensor[] bq = h.biases(c, spec.qkvBias(), spec.qDim());
      Tensor[] bk = h.biases(c, spec.qkvBias(), spec.kvDim());
      Tensor[] bv = h.biases(c, spec.qkvBias(), spec.kvDim());
      double bytes = bytes(wq[0], wk[0], wv[0], at(bq, 0), at(bk, 0), at(bv, 0));
      time(out, phase, rows, "qkv", "q, k, v projections (Backend.project)", c, decode ? bytes : 0,
          decode ? 0 : 2.0 * rows * hidden * qkvFeatures,
          i -> backend.project(x, List.of(new Projection(wq[i], at(bq, i), outs[0]),
              new Projection(wk[i], at(bk, i), outs[1]), new Projection(wv[i], at(bv, i), outs[2]))));
    }
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, spec.qDim());
      Tensor o = h.empty(rows, hidden);
      int c = decode ? copies(2L * hidden * spec.qDim()) : 1;
      Tensor[] w = h.weights(c, hidden, spec.qDim());
      Tensor[] b = h.biases(c, spec.outputBias(), hidden);
      time(out, phase, rows, "o", "output projection (Backend.linear)", c, decode ? bytes(w[0], at(b, 0)) : 0,
          decode ? 0 : 2.0 * rows * hidden * spec.qDim(), i -> backend.linear(x, w[i], at(b, i), o));
    }
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, hidden);
      Tensor gateOut = h.empty(rows, inter);
      Tensor upOut = h.empty(rows, inter);
      int c = decode ? copies(4L * inter * hidden) : 1;
      Tensor[] gate = h.weights(c, inter, hidden);
      Tensor[] up = h.weights(c, inter, hidden);
      Tensor[] gb = h.biases(c, spec.mlpBias(), inter);
      Tensor[] ub = h.biases(c, spec.mlpBias(), inter);
      time(out, phase, rows, "gate_up_silu", "gate and up projections, silu(gate) * up (Backend.swiGlu)", c,
          decode ? bytes(gate[0], up[0], at(gb, 0), at(ub, 0)) : 0, decode ? 0 : 4.0 * rows * hidden * inter,
          i -> backend.swiGlu(x, new Projection(gate[i], at(gb, i), gateOut), new Projection(up[i], at(ub, i), upOut)));
    }
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, inter);
      Tensor o = h.empty(rows, hidden);
      int c = decode ? copies(2L * hidden * inter) : 1;
      Tensor[] w = h.weights(c, hidden, inter);
      Tensor[] b = h.biases(c, spec.mlpBias(), hidden);
      time(out, phase, rows, "down", "down projection (Backend.linear)", c, decode ? bytes(w[0], at(b, 0)) : 0,
          decode ? 0 : 2.0 * rows * hidden * inter, i -> backend.linear(x, w[i], at(b, i), o));
    }
  }

  /**
   * RoPE, the KV store and attention for rows at the given slots and positions, over caches of
   * {@code cacheSlots} x {@code cachePositions}: a decode step reads every row's cached keys and values (against
   * the bandwidth, with enough cache copies to leave the cache), a prefill does its O(T²) multiply-adds
   * (against the matmul ceiling). The caches hold whatever memory held: the time does not depend on the values.
   */
  private void rotaryAttention(ArrayNode out, boolean decode, int[] slots, int[] positions, int cacheSlots,
      int cachePositions) {
    int rows = slots.length;
    try (Held h = new Held()) {
      Tensor q = h.activation(rows, spec.qDim());
      Tensor k = h.activation(rows, spec.kvDim());
      Tensor v = h.activation(rows, spec.kvDim());
      Tensor attended = h.empty(rows, spec.qDim());
      Tensor invFreq = h.add(backend.uploadFloats(spec.rope().inverseFrequencies(), spec.headDim() / 2));
      Tensor slotIds = h.ints(slots);
      Tensor positionIds = h.ints(positions);
      Tensor firstKeys = h.add(backend.allocateKvCache(cacheSlots, cachePositions, spec.kvDim()));
      double cacheBytes = 2.0 * rows * cachePositions * spec.kvDim() * firstKeys.dtype().byteSize();
      int c = decode ? copies((long) cacheBytes) : 1;
      Tensor[] keys = new Tensor[c];
      Tensor[] values = new Tensor[c];
      for (int i = 0; i < c; i++) {
        keys[i] = i == 0 ? firstKeys : h.add(backend.allocateKvCache(cacheSlots, cachePositions, spec.kvDim()));
        values[i] = h.add(backend.allocateKvCache(cacheSlots, cachePositions, spec.kvDim()));
      }
      // Row t attends to positions 0..t of a prefill: a multiply-add per head dimension for q.k and for p.v.
      double flops = 4.0 * spec.numHeads() * spec.headDim() * rows * (rows + 1.0) / 2;
      time(out, decode ? DECODE : PREFILL, rows, "rope_attention",
          "RoPE, KV store and attention (Backend.rotaryAttention)" + (decode ? ", " + cachePositions
              + " positions per row" : ""), c, decode ? cacheBytes : 0, decode ? 0 : flops,
          i -> backend.rotaryAttention(q, k, v, invFreq, keys[i], values[i], slotIds, positionIds, spec.numHeads(),
              spec.numKvHeads(), spec.headDim(), attentionScale(), attended));
    }
  }

  /** Floating-point operations per second of a large linear layer: what the prefill's matmuls could reach. */
  private double matmulCeiling() {
    int rows = options.prefillRows();
    try (Held h = new Held()) {
      Tensor x = h.activation(rows, MATMUL_SIZE);
      Tensor w = h.weights(1, MATMUL_SIZE, MATMUL_SIZE)[0];
      Tensor o = h.empty(rows, MATMUL_SIZE);
      return 2.0 * rows * MATMUL_SIZE * MATMUL_SIZE / bestSecondsPerCall(options.calls(), i -> backend.linear(x, w, null, o));
    }
  }

  /** Times {@code call} as a recorded step of {@code max(calls, copies)} calls, cycling through the copies. */
  private void time(ArrayNode out, String phase, int rows, String op, String what, int copies, double bytes,
      double flops, IntConsumer call) {
    int calls = Math.max(options.calls(), copies);
    double seconds = bestSecondsPerCall(calls, i -> call.accept(i % copies));
    report(out, phase, rows, op, what, seconds, bytes, flops);
  }

  /** Times a decode op that cannot be recorded (it waits for the device), one call after another. */
  private void timeEager(ArrayNode out, int rows, String op, String what, double bytes, Runnable call) {
    call.run();
    double best = Double.MAX_VALUE;
    for (int round = 0; round < ROUNDS; round++) {
      long start = System.nanoTime();
      for (int i = 0; i < options.calls(); i++) {
        call.run();
      }
      best = Math.min(best, (System.nanoTime() - start) / 1e9 / options.calls());
    }
    report(out, DECODE, rows, op, what, best, bytes, 0);
  }

  private double bestSecondsPerCall(int calls, IntConsumer call) {
    try (Tensor probe = backend.allocate(1, 1); StepGraph step = backend.record(() -> {
      for (int i = 0; i < calls; i++) {
        call.accept(i);
      }
    })) {
      double best = Double.MAX_VALUE;
      for (int round = 0; round < ROUNDS; round++) {
        long start = System.nanoTime();
        step.run();
        backend.download(probe);
        best = Math.min(best, (System.nanoTime() - start) / 1e9 / calls);
      }
      return best;
    }
  }

  private static void report(ArrayNode out, String phase, int rows, String op, String what, double seconds,
      double bytes, double flops) {
    ObjectNode node = out.addObject();
    node.put("phase", phase).put("rows", rows).put("op", op).put("what", what);
    node.put("us", seconds * 1e6);
    if (bytes > 0) {
      node.put("bytes", bytes).put("gb_s", bytes / seconds / 1e9);
    }
    if (flops > 0) {
      node.put("flops", flops).put("tflop_s", flops / seconds / 1e12);
    }
  }

  /** Copies of data of {@code bytes} needed to cycle through {@link #FLUSH_BYTES}, at most {@link #MAX_COPIES}. */
  private static int copies(long bytes) {
    return (int) Math.max(1, Math.min(MAX_COPIES, (FLUSH_BYTES + bytes - 1) / Math.max(1, bytes)));
  }

  private float attentionScale() {
    return (float) (1 / Math.sqrt(spec.headDim()));
  }

  private static Tensor at(Tensor[] tensors, int i) {
    return tensors == null ? null : tensors[i];
  }

  /** Bytes the tensors occupy as the backend stores them; nulls (absent biases) count nothing. */
  private static double bytes(Tensor... tensors) {
    double sum = 0;
    for (Tensor t : tensors) {
      if (t != null) {
        sum += (double) t.rows() * t.cols() * t.dtype().byteSize();
      }
    }
    return sum;
  }

  /** The tensors of one op's timing, freed together when it is done. */
  private final class Held implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();

    Tensor add(Tensor t) {
      tensors.add(t);
      return t;
    }

    /** Random activations, as a step's inputs would be. */
    Tensor activation(int rows, int cols) {
      float[] values = new float[rows * cols];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextGaussian();
      }
      return add(backend.uploadFloats(values, rows, cols));
    }

    Tensor empty(long rows, long cols) {
      return add(backend.allocate(rows, cols));
    }

    Tensor ints(int[] values) {
      Tensor t = add(backend.allocateInts(values.length));
      backend.writeInts(t, values);
      return t;
    }

    /** {@code copies} random bf16 weights of one shape, uploaded from the same bytes: only their addresses differ. */
    Tensor[] weights(int copies, long... shape) {
      HostTensor host = new HostTensor("random", DType.BF16, shape,
          RandomCheckpoint.uniform(shape, WEIGHT_HALF_WIDTH, random.nextLong()));
      Tensor[] uploaded = new Tensor[copies];
      for (int i = 0; i < copies; i++) {
        uploaded[i] = add(backend.upload(host));
      }
      return uploaded;
    }

    /** Biases of {@code n} features where the model has them, else null. */
    Tensor[] biases(int copies, boolean present, long n) {
      return present ? weights(copies, n) : null;
    }

    @Override
    public void close() {
      tensors.forEach(Tensor::close);
    }
  }
}
