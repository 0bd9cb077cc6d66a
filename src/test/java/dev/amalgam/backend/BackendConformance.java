package dev.amalgam.backend;

import static dev.amalgam.testing.Closeness.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import dev.amalgam.testing.RandomArrays;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same cases over every {@link Backend}: each op against {@link OpReference} on fresh random inputs, every
 * output poisoned with NaN first so an element an op skips shows. A subclass brings the backend and states
 * its tolerances beside the reason for them; the CPU's runs in every build, the GPU's where there is one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendConformance {
  private Backend backend;

  /** Opens the backend under test, once for all the cases. */
  protected abstract Backend open();

  /** Whether this backend rounds a linear layer's input to bf16 before multiplying (the CUDA one does). */
  protected abstract boolean roundsLinearInputsToBf16();

  /** The largest relative L2 error allowed for {@code op} against its float64 reference. */
  protected abstract double tolerance(Op op);

  /** The op families, for {@link #tolerance}. */
  protected enum Op { EXACT, NORM, LINEAR, ROPE, ATTENTION, ELEMENTWISE }

  private final Random random = new Random(2026);

  @BeforeAll
  void start() {
    backend = open();
  }

  @AfterAll
  void stop() {
    if (backend != null) {
      backend.close();
    }
  }

  private Backend backend() {
    return backend;
  }

  private Tensor bf16(float[] values, long... shape) {
    ByteBuffer bytes = ByteBuffer.allocateDirect(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putShort(FloatBits.floatToBf16(v));
    }
    return backend().upload(new HostTensor("w", DType.BF16, shape, bytes.flip()));
  }

  private Tensor poisoned(long rows, long cols) {
    float[] nan = new float[Math.toIntExact(rows * cols)];
    Arrays.fill(nan, Float.NaN);
    return backend().uploadFloats(nan, rows, cols);
  }

  private Tensor ints(int[] values) {
    Tensor t = backend().allocateInts(values.length);
    backend().writeInts(t, values);
    return t;
  }

  /** Values a bf16 weight holds exactly. */
  private float[] weights(int n, float scale) {
    return RandomArrays.roundedToBf16(RandomArrays.gaussians(random, n, scale));
  }

  private float[] linearInput(float[] x) {
    return roundsLinearInputsToBf16() ? RandomArrays.roundedToBf16(x) : x;
  }

  @Test
  void embeddingGathersRows() {
    int hidden = 72;
    float[] table = weights(50 * hidden, 1f);
    int[] ids = {3, 49, 0, 3, 17, 17, 8};
    try (Tensor t = bf16(table, 50, hidden); Tensor i = ints(ids); Tensor out = poisoned(ids.length, hidden)) {
      backend().embedding(t, i, out);
      assertClose(backend().download(out), OpReference.embedding(table, ids, hidden), tolerance(Op.EXACT),
          "embedding");
    }
  }

  @ParameterizedTest(name = "out aliases x: {0}")
  @ValueSource(booleans = {false, true})
  void rmsNorm(boolean aliased) {
    int rows = 5;
    int cols = 1536;
    float[] x = RandomArrays.gaussians(random, rows * cols, 3f);
    float[] w = weights(cols, 1f);
    try (Tensor in = backend().uploadFloats(x, rows, cols); Tensor weight = bf16(w, cols);
        Tensor separate = poisoned(rows, cols)) {
      Tensor out = aliased ? in : separate;
      backend().rmsNorm(in, weight, 1e-6f, out);
      assertClose(backend().download(out), OpReference.rmsNorm(x, w, 1e-6f), tolerance(Op.NORM), "rmsNorm");
    }
  }

  @Test
  void addRmsNormLeavesTheSumAndNormalizesIt() {
    int rows = 3;
    int cols = 700;
    float[] residual = RandomArrays.gaussians(random, rows * cols, 2f);
    float[] delta = RandomArrays.gaussians(random, rows * cols, 0.5f);
    float[] w = weights(cols, 1f);
    float[] sum = new float[residual.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = residual[i] + delta[i];
    }
    try (Tensor r = backend().uploadFloats(residual, rows, cols); Tensor d = backend().uploadFloats(delta, rows, cols);
        Tensor weight = bf16(w, cols); Tensor out = poisoned(rows, cols)) {
      backend().addRmsNorm(r, d, weight, 1e-6f, out);
      assertArrayEquals(sum, backend().download(r), "the residual is the float32 sum");
      assertClose(backend().download(out), OpReference.rmsNorm(sum, w, 1e-6f), tolerance(Op.NORM), "addRmsNorm");
    }
  }

  @ParameterizedTest(name = "{0} rows")
  @ValueSource(ints = {1, 3, 8, 17})
  void linearWithAndWithoutBias(int rows) {
    int in = 96;
    int features = 200;
    float[] x = RandomArrays.gaussians(random, rows * in, 1f);
    float[] w = weights(features * in, 0.1f);
    float[] b = weights(features, 0.5f);
    try (Tensor xs = backend().uploadFloats(x, rows, in); Tensor weight = bf16(w, features, in);
        Tensor bias = bf16(b, features); Tensor plain = poisoned(rows, features);
        Tensor biased = poisoned(rows, features)) {
      backend().linear(xs, weight, null, plain);
      backend().linear(xs, weight, bias, biased);
      assertClose(backend().download(plain), OpReference.linear(linearInput(x), w, null, in), tolerance(Op.LINEAR),
          "linear");
      assertClose(backend().download(biased), OpReference.linear(linearInput(x), w, b, in), tolerance(Op.LINEAR),
          "linear + bias");
    }
  }

  @ParameterizedTest(name = "{0} rows")
  @ValueSource(ints = {1, 12})
  void projectAndSwiGluAreLinearLayersOfOneInput(int rows) {
    int in = 64;
    float[] x = RandomArrays.gaussians(random, rows * in, 1f);
    float[] wq = weights(96 * in, 0.1f);
    float[] bq = weights(96, 0.5f);
    float[] wk = weights(32 * in, 0.1f);
    float[] wg = weights(80 * in, 0.1f);
    float[] wu = weights(80 * in, 0.1f);
    try (Tensor xs = backend().uploadFloats(x, rows, in); Tensor q = bf16(wq, 96, in); Tensor qb = bf16(bq, 96);
        Tensor k = bf16(wk, 32, in); Tensor qOut = poisoned(rows, 96); Tensor kOut = poisoned(rows, 32);
        Tensor gate = bf16(wg, 80, in); Tensor up = bf16(wu, 80, in); Tensor gateOut = poisoned(rows, 80);
        Tensor upOut = poisoned(rows, 80)) {
      backend().project(xs, List.of(new Projection(q, qb, qOut), new Projection(k, null, kOut)));
      float[] input = linearInput(x);
      assertClose(backend().download(qOut), OpReference.linear(input, wq, bq, in), tolerance(Op.LINEAR), "project q");
      assertClose(backend().download(kOut), OpReference.linear(input, wk, null, in), tolerance(Op.LINEAR),
          "project k");
      backend().swiGlu(xs, new Projection(gate, null, gateOut), new Projection(up, null, upOut));
      assertClose(backend().download(gateOut), OpReference.siluMul(OpReference.linear(input, wg, null, in),
          OpReference.linear(input, wu, null, in)), tolerance(Op.LINEAR), "swiGlu");
    }
  }

  @ParameterizedTest(name = "head_dim {0}")
  @ValueSource(ints = {32, 128})
  void ropeRotatesEachHeadByItsRowsPosition(int headDim) {
    int heads = 3;
    int[] positions = {0, 5, 1000, 100_000};
    float[] x = RandomArrays.gaussians(random, positions.length * heads * headDim, 1f);
    float[] invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = 1.0f / (float) Math.pow(10000f, (float) (2 * i) / headDim);
    }
    try (Tensor xs = backend().uploadFloats(x, positions.length, (long) heads * headDim); Tensor p = ints(positions);
        Tensor f = backend().uploadFloats(invFreq, invFreq.length)) {
      backend().rope(xs, p, f, headDim);
      assertClose(backend().download(xs), OpReference.rope(x, positions, invFreq, headDim), tolerance(Op.ROPE),
          "rope");
    }
  }

  /**
   * A prefill of two prompts into their slots, then a decode step over both: each call stores its keys and
   * values, and later rows must see what earlier calls stored.
   */
  @Test
  void attentionOverPrefillsAndADecodeStep() {
    OpReference.Heads heads = new OpReference.Heads(8, 2, 64, 24);
    int kvDim = heads.numKvHeads() * heads.headDim();
    float[] kCache = new float[2 * heads.maxPositions() * kvDim];
    float[] vCache = new float[kCache.length];
    float scale = (float) (1 / Math.sqrt(heads.headDim()));
    try (Tensor kc = backend().allocateKvCache(2, heads.maxPositions(), kvDim);
        Tensor vc = backend().allocateKvCache(2, heads.maxPositions(), kvDim)) {
      int[] prefillSlots = {1, 1, 1, 1, 1, 0, 0, 0};
      int[] prefillPositions = {0, 1, 2, 3, 4, 0, 1, 2};
      attend(heads, kc, vc, kCache, vCache, prefillSlots, prefillPositions, scale, "prefill");
      attend(heads, kc, vc, kCache, vCache, new int[] {0, 1}, new int[] {3, 5}, scale, "decode");
    }
  }

  private void attend(OpReference.Heads heads, Tensor kc, Tensor vc, float[] kCache, float[] vCache, int[] slots,
      int[] positions, float scale, String what) {
    int rows = slots.length;
    int qDim = heads.numHeads() * heads.headDim();
    int kvDim = heads.numKvHeads() * heads.headDim();
    float[] q = RandomArrays.gaussians(random, rows * qDim, 1f);
    float[] k = RandomArrays.gaussians(random, rows * kvDim, 1f);
    float[] v = RandomArrays.gaussians(random, rows * kvDim, 1f);
    for (int t = 0; t < rows; t++) {
      int at = (slots[t] * heads.maxPositions() + positions[t]) * kvDim;
      System.arraycopy(k, t * kvDim, kCache, at, kvDim);
      System.arraycopy(v, t * kvDim, vCache, at, kvDim);
    }
    try (Tensor tq = backend().uploadFloats(q, rows, qDim); Tensor tk = backend().uploadFloats(k, rows, kvDim);
        Tensor tv = backend().uploadFloats(v, rows, kvDim); Tensor ts = ints(slots); Tensor tp = ints(positions);
        Tensor out = poisoned(rows, qDim)) {
      backend().attention(tq, tk, tv, kc, vc, ts, tp, heads.numHeads(), heads.numKvHeads(), heads.headDim(), scale,
          out);
      assertClose(backend().download(out), OpReference.attention(q, kCache, vCache, slots, positions, heads, scale),
          tolerance(Op.ATTENTION), "attention, " + what);
    }
  }

  @ParameterizedTest(name = "out aliases gate: {0}")
  @ValueSource(booleans = {false, true})
  void siluMulAndAdd(boolean aliased) {
    float[] gate = RandomArrays.gaussians(random, 3 * 1000, 3f);
    float[] up = RandomArrays.gaussians(random, 3 * 1000, 1f);
    double[] sum = new double[gate.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = (double) gate[i] + up[i];
    }
    try (Tensor g = backend().uploadFloats(gate, 3, 1000); Tensor u = backend().uploadFloats(up, 3, 1000);
        Tensor separate = poisoned(3, 1000); Tensor added = poisoned(3, 1000)) {
      backend().add(g, u, added);
      assertClose(backend().download(added), sum, tolerance(Op.ELEMENTWISE), "add");
      Tensor out = aliased ? g : separate;
      backend().siluMul(g, u, out);
      assertClose(backend().download(out), OpReference.siluMul(gate, up), tolerance(Op.ELEMENTWISE), "siluMul");
    }
  }

  @Test
  void greedySamplingPicksEachRowsArgMaxAndNonFiniteLogitsAreAnError() {
    float[] logits = RandomArrays.gaussians(random, 3 * 300, 2f);
    logits[17] = 9f;
    logits[300 + 299] = 9f;
    logits[600] = 9f;
    SamplingParams greedy = new SamplingParams(0f, 0, 1f, 0f, 1f);
    try (Tensor t = backend().uploadFloats(logits, 3, 300)) {
      assertArrayEquals(new int[] {17, 299, 0}, backend().sample(t, greedy, new int[3][0], new double[3]));
    }
    logits[300 + 5] = Float.NaN;
    try (Tensor t = backend().uploadFloats(logits, 3, 300)) {
      NonFiniteLogitsException error = assertThrows(NonFiniteLogitsException.class,
          () -> backend().sample(t, new SamplingParams(0.8f, 0, 1f, 0f, 1f), new int[3][0], new double[3]));
      assertTrue(error.getMessage().contains("sequence 1"), error.getMessage());
    }
  }
}
