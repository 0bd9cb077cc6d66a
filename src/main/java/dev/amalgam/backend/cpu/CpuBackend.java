package dev.amalgam.backend.cpu;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.NonFiniteLogitsException;
import dev.amalgam.backend.Sampler;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * The {@link Backend} on libtorch's CPU kernels, computing everything in float32: weights are widened on
 * upload, so results match Hugging Face's float32 reference. Each op runs its libtorch calls inside a
 * {@link PointerScope}, which frees the temporaries' native handles as soon as the op returns instead of
 * leaving them to the garbage collector.
 */
public final class CpuBackend implements Backend {
  private final Set<CpuTensor> live = Collections.newSetFromMap(new IdentityHashMap<>());
  private RotaryTable rotary;

  /**
   * Creates the backend. The first one in a process loads libtorch (a few seconds, see {@link #loadNatives}).
   */
  public CpuBackend() {
    loadNatives();
  }

  /**
   * Loads the libtorch natives now and returns how long that took in milliseconds (0 once loaded).
   *
   * <p>It also leaves libtorch's own (OpenMP) intra-op pool at one thread. The matmuls, where the time goes,
   * run in OpenBLAS, which keeps its own pool of worker threads (one per core unless
   * {@code OPENBLAS_NUM_THREADS} says otherwise). With both pools active, every switch between a BLAS call
   * and an elementwise op found the other pool's threads still spinning on the same cores: on two shared
   * cores a small matmul followed by a softmax took 27 µs with one libtorch thread and 29–2600 µs with two,
   * depending on the other load. The elementwise ops of a decode step or a prefill are small next to the
   * matmuls, so they lose little on one thread.
   */
  public static synchronized long loadNatives() {
    long start = System.nanoTime();
    torch.set_num_threads(1);
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Override
  public String device() {
    return "cpu (libtorch float32, OpenBLAS " + openblas_full.openblas_get_num_threads() + " threads)";
  }

  // ---- memory -----------------------------------------------------------------------------------------

  @Override
  public Tensor upload(HostTensor weight) {
    ScalarType source = weightType(weight.name(), weight.dtype());
    ByteBuffer bytes = weight.data().duplicate();
    long expected = elementCount(weight.shape()) * weight.dtype().byteSize();
    if (bytes.remaining() != expected) {
      throw new IllegalArgumentException("tensor `" + weight.name() + "` has " + bytes.remaining()
          + " bytes for " + weight.dtype() + " " + Arrays.toString(weight.shape()));
    }
    try (PointerScope scope = new PointerScope()) {
      BytePointer staging = new BytePointer(bytes.remaining());
      staging.asBuffer().put(bytes);
      org.bytedeco.pytorch.Tensor view = torch.from_blob(staging, weight.shape(), new TensorOptions(source));
      // copy=true: a float32 source would otherwise alias the staging memory freed by the scope.
      return adopt(detached(view.to(ScalarType.Float, false, true, new MemoryFormatOptional())), DType.F32);
    }
  }

  /**
   * Writes {@code bytes}, elements of {@code dtype}, over elements {@code [offset, offset + count)} of {@code weight}
   * (a tensor of this backend), converted as {@link #upload} converts them: a weight rewritten in place, by a sweep's
   * merge of its next point. Callers may write disjoint ranges from several threads.
   */
  public void overwrite(Tensor weight, long offset, DType dtype, ByteBuffer bytes) {
    org.bytedeco.pytorch.Tensor target = ((CpuTensor) weight).torch();
    long count = bytes.remaining() / dtype.byteSize();
    try (PointerScope scope = new PointerScope()) {
      BytePointer staging = new BytePointer(bytes.remaining());
      staging.asBuffer().put(bytes.duplicate());
      org.bytedeco.pytorch.Tensor source = torch.from_blob(staging, new long[] {count},
          new TensorOptions(weightType("a merged tensor", dtype)));
      target.view(-1).narrow(0, offset, count).copy_(source);
    }
  }

  private static ScalarType weightType(String name, DType dtype) {
    return switch (dtype) {
      case BF16 -> ScalarType.BFloat16;
      case F16 -> ScalarType.Half;
      case F32 -> ScalarType.Float;
      default -> throw new IllegalArgumentException(
          "tensor `" + name + "` is " + dtype + "; weights must be BF16, F16 or F32");
    };
  }

  @Override
  public Tensor uploadFloats(float[] values, long... shape) {
    if (elementCount(shape) != values.length) {
      throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
    }
    try (PointerScope scope = new PointerScope()) {
      FloatPointer staging = new FloatPointer(values);
      return adopt(detached(torch.from_blob(staging, shape).clone()), DType.F32);
    }
  }

  @Override
  public Tensor allocate(long... shape) {
    try (PointerScope scope = new PointerScope()) {
      return adopt(detached(torch.empty(shape)), DType.F32);
    }
  }

  @Override
  public Tensor allocateInts(int n) {
    try (PointerScope scope = new PointerScope()) {
      return adopt(detached(torch.empty(new long[] {n}, new TensorOptions(ScalarType.Int), null)), DType.I32);
    }
  }

  @Override
  public void writeInts(Tensor dst, int[] values) {
    CpuTensor t = own(dst);
    if (t.dtype() != DType.I32 || t.shape().length != 1 || t.shape()[0] != values.length) {
      throw new IllegalArgumentException(values.length + " ints for " + t.dtype() + Arrays.toString(t.shape()));
    }
    try (PointerScope scope = new PointerScope()) {
      t.torch().data_ptr_int().put(values);
    }
    t.written();
  }

  /**
   * Zeroed, not left undefined: a batched decode step reads every slot up to the longest row's position, and
   * a shorter row's extra positions, masked to probability 0, must hold finite values for 0 × value to be 0.
   */
  @Override
  public Tensor allocateKvCache(int slots, int maxPositions, int kvDim) {
    try (PointerScope scope = new PointerScope()) {
      return adopt(detached(torch.zeros(slots, maxPositions, kvDim)), DType.F32);
    }
  }

  @Override
  public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count) {
    try (PointerScope scope = new PointerScope()) {
      rowsOf(dst).narrow(0, dstRow, count).copy_(rowsOf(src).narrow(0, srcRow, count));
    }
    own(dst).written();
  }

  @Override
  public float[] download(Tensor t) {
    CpuTensor c = own(t);
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor floats = c.torch().to(ScalarType.Float).contiguous();
      float[] values = new float[Math.toIntExact(floats.numel())];
      floats.data_ptr_float().get(values);
      return values;
    }
  }

  /** An int vector's values, for ops that loop over rows on the host. */
  int[] ints(Tensor t) {
    CpuTensor c = own(t);
    try (PointerScope scope = new PointerScope()) {
      int[] values = new int[Math.toIntExact(c.shape()[0])];
      c.torch().data_ptr_int().get(values);
      return values;
    }
  }

  // ---- transformer ops ------------------------------------------------------------------------------

  @Override
  public void embedding(Tensor table, Tensor ids, Tensor out) {
    try (PointerScope scope = new PointerScope()) {
      torch.index_select_out(torchOf(out), torchOf(table), 0, torchOf(ids));
    }
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor in = torchOf(x);
      org.bytedeco.pytorch.Tensor o = torchOf(out);
      // The same float32 operations as HF's Qwen2RMSNorm (weight * (x * rsqrt(mean(x^2) + eps))), so results
      // agree bit for bit where possible; in place where HF allocates, and multiplication commutes exactly.
      org.bytedeco.pytorch.Tensor scale = in.pow(new Scalar(2)).mean(new long[] {-1}, true, new ScalarTypeOptional());
      scale.add_(new Scalar(eps)).rsqrt_();
      torch.mul_out(o, in, scale);
      o.mul_(torchOf(weight));
    }
  }

  /**
   * Writes straight into {@code out} (no temporary and copy). One row goes through BLAS's matrix-vector
   * product, which streams the weight once; OpenBLAS's matrix-matrix product with a single row packs the
   * weight first and reached half the bandwidth.
   */
  @Override
  public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor w = torchOf(weight);
      org.bytedeco.pytorch.Tensor o = torchOf(out);
      if (x.rows() == 1) {
        org.bytedeco.pytorch.Tensor row = torchOf(x).view(-1);
        if (bias == null) {
          torch.mv_out(o.view(-1), w, row);
        } else {
          torch.addmv_out(o.view(-1), torchOf(bias), w, row);
        }
      } else if (bias == null) {
        torch.mm_out(o, torchOf(x), w.t());
      } else {
        torch.addmm_out(o, torchOf(bias), torchOf(x), w.t());
      }
    }
  }

  /** Reuses the previous call's angles while the positions are unchanged (q and k of every layer). */
  @Override
  public void rope(Tensor x, Tensor positions, Tensor invFreq, int headDim) {
    CpuTensor pos = own(positions);
    CpuTensor freq = own(invFreq);
    if (rotary == null || !rotary.isFor(pos, freq, headDim)) {
      if (rotary != null) {
        rotary.close();
      }
      rotary = new RotaryTable(pos, freq, headDim);
    }
    rotary.apply(torchOf(x));
  }

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots,
      Tensor positions, int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    new CpuAttention(numHeads, numKvHeads, headDim, scale)
        .run(torchOf(q), torchOf(k), torchOf(v), torchOf(kCache), torchOf(vCache), ints(slots), ints(positions),
            torchOf(out));
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    try (PointerScope scope = new PointerScope()) {
      torch.mul_out(torchOf(out), torch.silu(torchOf(gate)), torchOf(up));
    }
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    try (PointerScope scope = new PointerScope()) {
      torch.add_out(torchOf(out), torchOf(a), torchOf(b));
    }
  }

  @Override
  public int[] sample(Tensor logits, SamplingParams params, int[][] history, double[] uniforms) {
    float[] all = download(logits);
    int rows = Math.toIntExact(logits.rows());
    int vocab = Math.toIntExact(logits.cols());
    int[] tokens = new int[rows];
    for (int r = 0; r < rows; r++) {
      float[] row = Arrays.copyOfRange(all, r * vocab, (r + 1) * vocab);
      if (!Sampler.allFinite(row)) {
        throw new NonFiniteLogitsException(r);
      }
      tokens[r] = Sampler.pick(row, params, history[r], uniforms[r]);
    }
    return tokens;
  }

  @Override
  public void close() {
    if (rotary != null) {
      rotary.close();
      rotary = null;
    }
    List<CpuTensor> open = new ArrayList<>(live);
    open.forEach(CpuTensor::close);
  }

  // ---- helpers --------------------------------------------------------------------------------------

  void forget(CpuTensor t) {
    live.remove(t);
  }

  private CpuTensor adopt(org.bytedeco.pytorch.Tensor t, DType dtype) {
    long[] shape = new long[(int) t.dim()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.size(i);
    }
    CpuTensor tensor = new CpuTensor(this, t, dtype, shape);
    live.add(tensor);
    return tensor;
  }

  /** Takes a tensor out of the current scope so that it lives until its handle is closed. */
  static org.bytedeco.pytorch.Tensor detached(org.bytedeco.pytorch.Tensor t) {
    t.retainReference(); // the scope's detach drops the reference it held; this one is the handle's
    PointerScope.getInnerScope().detach(t);
    return t;
  }

  private CpuTensor own(Tensor t) {
    if (!(t instanceof CpuTensor c) || c.owner() != this) {
      throw new IllegalArgumentException("tensor does not belong to this CPU backend");
    }
    return c;
  }

  private org.bytedeco.pytorch.Tensor torchOf(Tensor t) {
    return own(t).torch();
  }

  /** The tensor as 2-D rows (all leading dimensions flattened), viewing the same memory. */
  private org.bytedeco.pytorch.Tensor rowsOf(Tensor t) {
    return torchOf(t).view(-1, t.cols());
  }

  private static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
