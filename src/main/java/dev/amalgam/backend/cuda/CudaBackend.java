package dev.amalgam.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemsetD8Async;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.OpShapes;
import dev.amalgam.backend.Projection;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.StepGraph;
import dev.amalgam.backend.Tensor;
import dev.amalgam.cuda.Cublas;
import dev.amalgam.cuda.CudaAvailability;
import dev.amalgam.cuda.CudaContext;
import dev.amalgam.cuda.CudaException;
import dev.amalgam.cuda.CudaGraph;
import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceBuffer;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.cuda.KernelCache;
import dev.amalgam.cuda.KernelCompiler;
import dev.amalgam.cuda.KernelLauncher;
import dev.amalgam.cuda.LoadedKernels;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import dev.amalgam.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;

/**
 * The {@link Backend} on one GPU: our kernels ({@link GenerationKernels}) plus cuBLAS, everything enqueued
 * in order on one stream, so only {@link #download} and {@link #sample} wait for the GPU.
 *
 * <h2>Dtypes</h2>
 * <ul>
 *   <li>Weights are bf16 (F16 and F32 checkpoints are rounded to nearest even on upload); RoPE frequencies
 *       from {@link #uploadFloats} stay float32.
 *   <li>Activations and the KV cache are <b>float32</b>. Only the inputs of a matmul are rounded to bf16,
 *       because cuBLAS multiplies bf16 by bf16 (with float32 accumulation and a float32 result); the
 *       residual stream, norms, RoPE, attention and SiLU stay float32. That is closer to the float32
 *       reference than HF's bf16 path, which rounds every activation and the cache to bf16, at a cost that
 *       is small in decoding, where the weights dominate the memory traffic.
 * </ul>
 *
 * <h2>Decode steps</h2>
 * {@link #record} captures a step as a CUDA graph (unless graphs are turned off, see {@link #open(int,
 * boolean)}), so a decode step costs one launch instead of some 250. Linear layers of up to
 * {@link GenerationKernels#GEMV_MAX_ROWS} rows, the decode-shaped ones, run as {@code gemv_bf16} with the bias
 * fused in, instead of a bf16 conversion, cuBLAS and a bias kernel; q, k and v of a layer share one launch,
 * and gate, up and SiLU another ({@code gemv_bf16_swiglu}). RoPE and the KV-cache store are one kernel.
 *
 * <p>The backend is used from one thread, on which its context is current. Tensors it made, or took over
 * with {@link #adopt}, and recorded steps are freed by {@link #close} if still open.
 */
public final class CudaBackend implements Backend {

  private final CudaContext context;
  private final boolean ownsContext;
  private final CudaStream stream;
  private final LoadedKernels kernels;
  /** Enqueues our kernels on {@link #stream}, through their typed launchers. */
  private final KernelLauncher launcher;
  private final Cublas cublas;
  private final boolean graphs;
  /** The temporaries of ops issued one by one. */
  private final OpScratch eagerScratch;
  /** The temporaries the ops being issued use: {@link #eagerScratch}, or a step's own while it is recorded. */
  private OpScratch scratch;
  private final DeviceSampler sampler;
  private final Set<CudaTensor> live = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Set<CapturedStep> liveSteps = Collections.newSetFromMap(new IdentityHashMap<>());
  private boolean closed;

  private CudaBackend(CudaContext context, boolean ownsContext, KernelCompiler compiler, boolean graphs) {
    this.context = context;
    this.ownsContext = ownsContext;
    this.graphs = graphs;
    context.makeCurrent();
    this.stream = CudaStream.create();
    List<AutoCloseable> opened = new ArrayList<>(List.of(stream));
    try {
      this.kernels = GenerationKernels.load(context, compiler);
      opened.add(kernels);
      this.cublas = Cublas.create(stream);
      opened.add(cublas);
    } catch (RuntimeException | Error e) {
      closeAll(opened);
      throw e;
    }
    this.eagerScratch = new OpScratch(stream);
    this.scratch = eagerScratch;
    this.launcher = kernels.on(stream);
    this.sampler = new DeviceSampler(stream, launcher);
  }

  /** A backend on device {@code ordinal} with CUDA graphs, as {@link #open(int, boolean)}. */
  public static CudaBackend open(int ordinal) {
    return open(ordinal, true);
  }

  /**
   * A backend on device {@code ordinal} that owns its context; kernels cached as the merge engine's are. With
   * {@code graphs} false, {@link #record} returns steps that issue their ops one by one each time: slower, and
   * there to compare against and to rule graphs out when looking for a fault.
   */
  public static CudaBackend open(int ordinal, boolean graphs) {
    CudaContext context = CudaContext.open(ordinal);
    try {
      return new CudaBackend(context, true, new KernelCompiler(KernelCache.fromEnvironment()), graphs);
    } catch (RuntimeException | Error e) {
      context.close();
      throw e;
    }
  }

  /** A backend with CUDA graphs on a context the caller owns and closes after it, e.g. shared with a merge. */
  public static CudaBackend on(CudaContext context, KernelCompiler compiler) {
    return on(context, compiler, true);
  }

  /** As {@link #on(CudaContext, KernelCompiler)}, with graphs on or off as in {@link #open(int, boolean)}. */
  public static CudaBackend on(CudaContext context, KernelCompiler compiler, boolean graphs) {
    return new CudaBackend(context, false, compiler, graphs);
  }

  /** Why the backend cannot run here (no driver, no GPU, no cuBLAS), or null when it can. */
  public static String unavailableReason() {
    CudaAvailability cuda = CudaAvailability.probe();
    return cuda.available() ? Cublas.unavailableReason() : cuda.reason();
  }

  public CudaContext context() {
    return context;
  }

  @Override
  public String device() {
    return graphs ? context.description() : context.description() + ", CUDA graphs off";
  }

  // ---- memory -----------------------------------------------------------------------------------------

  @Override
  public Tensor upload(HostTensor weight) {
    DType source = weight.dtype();
    if (!source.isMergeable()) {
      throw new IllegalArgumentException(
          "tensor `" + weight.name() + "` is " + source + "; weights must be BF16, F16 or F32");
    }
    long count = OpShapes.elements(weight.shape());
    ByteBuffer bytes = direct(weight.data());
    if (bytes.remaining() != count * source.byteSize()) {
      throw new IllegalArgumentException("tensor `" + weight.name() + "` has " + bytes.remaining() + " bytes for "
          + source + " " + Arrays.toString(weight.shape()));
    }
    context.makeCurrent();
    CudaTensor tensor = allocateTensor(DType.BF16, weight.shape());
    if (source == DType.BF16) {
      stream.copyToDevice(tensor.address(), new Pointer(bytes), bytes.remaining());
      // A pageable source is staged by the driver before the call returns, but wait anyway: the caller may
      // unmap the file as soon as loading is done.
      stream.synchronize();
    } else {
      try (DeviceBuffer staging = DeviceBuffer.allocate(bytes.remaining())) {
        stream.copyToDevice(staging.address(), new Pointer(bytes), bytes.remaining());
        ElementwiseKernels.convertToBf16(launcher, staging.address(), source, tensor.address(), count);
        stream.synchronize(); // before the staging buffer is freed
      }
    }
    return tensor;
  }

  /**
   * The device address of {@code tensor}, a tensor of this backend, for a merge that rewrites a weight in place
   * (its dtype is {@link Tensor#dtype}, BF16 for weights).
   */
  public long address(Tensor tensor) {
    if (!(tensor instanceof CudaTensor cuda) || !live.contains(cuda)) {
      throw new IllegalArgumentException("not a live tensor of this backend: " + tensor);
    }
    return cuda.address();
  }

  /**
   * Takes over a tensor that is already in this backend's GPU memory, such as a merge result from
   * {@code CudaMergeEngine.mergeToDevice} on the same context, as a weight: bf16 memory becomes the weight as
   * is, F16 or F32 is converted into new bf16 memory and the original freed. Either way the caller must not
   * use or close {@code resident} afterwards.
   */
  public Tensor adopt(DeviceTensor resident) {
    if (!resident.dtype().isMergeable()) {
      throw new IllegalArgumentException("tensor `" + resident.name() + "` is " + resident.dtype()
          + "; weights must be BF16, F16 or F32");
    }
    context.makeCurrent();
    if (resident.dtype() == DType.BF16) {
      CudaTensor tensor = new CudaTensor(this, resident.buffer(), DType.BF16, resident.shape(), false);
      live.add(tensor);
      return tensor;
    }
    CudaTensor tensor = allocateTensor(DType.BF16, resident.shape());
    ElementwiseKernels.convertToBf16(launcher, resident.address(), resident.dtype(), tensor.address(),
        resident.elementCount());
    stream.synchronize();
    resident.close();
    return tensor;
  }

  @Override
  public Tensor uploadFloats(float[] values, long... shape) {
    if (OpShapes.elements(shape) != values.length) {
      throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
    }
    CudaTensor tensor = allocateTensor(DType.F32, shape);
    ByteBuffer bytes = ByteBuffer.allocateDirect(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    stream.copyToDevice(tensor.address(), new Pointer(bytes), bytes.capacity());
    stream.synchronize();
    return tensor;
  }

  @Override
  public Tensor allocate(long... shape) {
    return allocateTensor(DType.F32, shape);
  }

  @Override
  public Tensor allocateInts(int n) {
    CudaTensor tensor = new CudaTensor(this, DeviceBuffer.allocate(4L * n), DType.I32, new long[] {n}, true);
    live.add(tensor);
    return tensor;
  }

  @Override
  public void writeInts(Tensor dst, int[] values) {
    CudaTensor t = own(dst);
    if (t.dtype() != DType.I32 || t.shape().length != 1 || t.shape()[0] != values.length) {
      throw new IllegalArgumentException(values.length + " ints for " + t);
    }
    t.writeInts(stream, values);
  }

  @Override
  public Tensor allocateKvCache(int slots, int maxPositions, int kvDim) {
    return allocateTensor(DType.F32, slots, maxPositions, kvDim);
  }

  @Override
  public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int count) {
    CudaTensor from = own(src);
    CudaTensor to = own(dst);
    if (from.dtype() != to.dtype() || src.cols() != dst.cols()) {
      throw new IllegalArgumentException("cannot copy rows of " + from + " into " + to);
    }
    if (srcRow < 0 || dstRow < 0 || count < 0 || srcRow + count > src.rows() || dstRow + count > dst.rows()) {
      throw new IllegalArgumentException(count + " rows from " + srcRow + " of " + from + " to " + dstRow + " of " + to);
    }
    long rowBytes = src.cols() * from.dtype().byteSize();
    CudaException.check(cuMemcpyDtoDAsync(to.address() + dstRow * rowBytes, from.address() + srcRow * rowBytes,
        count * rowBytes, stream.handle()), "cuMemcpyDtoDAsync");
  }

  @Override
  public float[] download(Tensor t) {
    CudaTensor c = own(t);
    ByteBuffer bytes = ByteBuffer.allocateDirect(Math.toIntExact(c.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    stream.copyToHost(new Pointer(bytes), c.address(), c.byteSize());
    stream.synchronize();
    float[] values = new float[Math.toIntExact(c.elementCount())];
    for (int i = 0; i < values.length; i++) {
      values[i] = switch (c.dtype()) {
        case F32 -> bytes.getFloat(4 * i);
        case BF16 -> FloatBits.bf16ToFloat(bytes.getShort(2 * i));
        case I32 -> bytes.getInt(4 * i);
        default -> throw new IllegalStateException("no " + c.dtype() + " tensors on this backend");
      };
    }
    return values;
  }

  /** Fills a tensor's bytes with {@code value}, in stream order: tests poison outputs with 0xFF (NaN) first. */
  void fill(Tensor t, byte value) {
    CudaTensor c = own(t);
    CudaException.check(cuMemsetD8Async(c.address(), value, c.byteSize(), stream.handle()), "cuMemsetD8Async");
  }

  // ---- transformer ops ------------------------------------------------------------------------------

  @Override
  public void embedding(Tensor table, Tensor ids, Tensor out) {
    int rows = Math.toIntExact(ids.shape()[0]);
    int hidden = Math.toIntExact(table.cols());
    OpShapes.check(out, rows, hidden);
    ElementwiseKernels.embeddingGather(launcher, bf16(table, "embedding table"), ints(ids, "ids"), activation(out),
        rows, hidden);
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
    int rows = Math.toIntExact(x.rows());
    int cols = Math.toIntExact(x.cols());
    OpShapes.check(out, rows, cols);
    OpShapes.check(weight, cols);
    NormKernels.rmsNorm(launcher, activation(x), bf16(weight, "norm weight"), activation(out), eps, rows, cols);
  }

  @Override
  public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
    int rows = Math.toIntExact(residual.rows());
    int cols = Math.toIntExact(residual.cols());
    OpShapes.check(delta, rows, cols);
    OpShapes.check(out, rows, cols);
    OpShapes.check(weight, cols);
    if (out == residual || out == delta) {
      throw new IllegalArgumentException("addRmsNorm's output must be distinct from its inputs");
    }
    NormKernels.addRmsNorm(launcher, activation(residual), activation(delta), bf16(weight, "norm weight"),
        activation(out), eps, rows, cols);
  }

  @Override
  public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
    project(x, List.of(new Projection(weight, bias, out)));
  }

  /**
   * Up to {@link GemvKernels#MAX_LAYERS} layers of at most {@link GemvKernels#MAX_ROWS} rows go through one
   * {@code gemv_bf16} launch with their biases fused; larger inputs are converted to bf16 once, then each layer
   * is a cuBLAS GEMM followed by its bias.
   */
  @Override
  public void project(Tensor x, List<Projection> projections) {
    int rows = Math.toIntExact(x.rows());
    int in = Math.toIntExact(x.cols());
    for (Projection p : projections) {
      OpShapes.checkProjection(x, p);
    }
    if (projections.isEmpty()) {
      return;
    }
    if (GemvKernels.fits(rows, in) && projections.size() <= GemvKernels.MAX_LAYERS) {
      GemvKernels.gemv(launcher, activation(x), rows, in, projections.stream().map(this::gemvLayer).toList());
      return;
    }
    long xBf16 = matmulInput(x);
    for (Projection p : projections) {
      int outFeatures = Math.toIntExact(p.out().cols());
      cublas.linearBf16(xBf16, bf16(p.weight(), "linear weight"), activation(p.out()), rows, in, outFeatures);
      if (p.bias() != null) {
        ElementwiseKernels.addBias(launcher, activation(p.out()), bf16(p.bias(), "bias"), rows, outFeatures);
      }
    }
  }

  /** Decode-sized inputs: one {@code gemv_bf16_swiglu} launch; larger ones {@link #project} and {@code silu_mul}. */
  @Override
  public void swiGlu(Tensor x, Projection gate, Projection up) {
    OpShapes.checkProjection(x, gate);
    OpShapes.checkProjection(x, up);
    OpShapes.check(up.out(), gate.out().shape());
    int rows = Math.toIntExact(x.rows());
    int in = Math.toIntExact(x.cols());
    if (!GemvKernels.fits(rows, in)) {
      project(x, List.of(gate, up));
      siluMul(gate.out(), up.out(), gate.out());
      return;
    }
    GemvKernels.swiglu(launcher, activation(x), gemvLayer(gate), bf16(up.weight(), "up weight"),
        up.bias() == null ? 0L : bf16(up.bias(), "up bias"), rows, in);
  }

  private GemvKernels.Layer gemvLayer(Projection p) {
    return new GemvKernels.Layer(bf16(p.weight(), "linear weight"), p.bias() == null ? 0L : bf16(p.bias(), "bias"),
        activation(p.out()), Math.toIntExact(p.out().cols()));
  }

  /** x rounded to bf16 in the temporaries, as cuBLAS multiplies it. */
  private long matmulInput(Tensor x) {
    long count = OpShapes.elements(x.shape());
    long xBf16 = scratch.matmulInput.atLeast(2 * count);
    ElementwiseKernels.convertToBf16(launcher, activation(x), DType.F32, xBf16, count);
    return xBf16;
  }

  @Override
  public void rope(Tensor x, Tensor positions, Tensor invFreq, int headDim) {
    int rows = Math.toIntExact(x.rows());
    if (headDim % 2 != 0 || x.cols() % headDim != 0) {
      throw new IllegalArgumentException("rows of " + x.cols() + " are not heads of " + headDim);
    }
    int heads = Math.toIntExact(x.cols() / headDim);
    OpShapes.check(positions, rows);
    OpShapes.check(invFreq, headDim / 2);
    RopeKernels.rope(launcher, activation(x), ints(positions, "positions"), floats(invFreq, "inverse frequencies"),
        rows, heads, headDim);
  }

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots, Tensor positions,
      int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    OpShapes.checkAttention(q, k, v, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, out);
    AttentionKernels.Heads heads = heads(kCache, numHeads, numKvHeads, headDim);
    AttentionKernels.kvStore(launcher, activation(k), activation(v), activation(kCache), activation(vCache),
        ints(slots, "slots"), ints(positions, "positions"), Math.toIntExact(q.rows()), heads);
    attendToCache(q, kCache, vCache, slots, positions, heads, scale, out);
  }

  /** RoPE of q and k and the KV-cache store in one {@code rope_kv_store} launch, then the attention kernels. */
  @Override
  public void rotaryAttention(Tensor q, Tensor k, Tensor v, Tensor invFreq, Tensor kCache, Tensor vCache,
      Tensor slots, Tensor positions, int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    OpShapes.checkAttention(q, k, v, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, out);
    OpShapes.check(invFreq, headDim / 2);
    AttentionKernels.Heads heads = heads(kCache, numHeads, numKvHeads, headDim);
    RopeKernels.ropeKvStore(launcher, activation(q), activation(k), activation(v), activation(kCache),
        activation(vCache), ints(slots, "slots"), ints(positions, "positions"),
        floats(invFreq, "inverse frequencies"), Math.toIntExact(q.rows()), numHeads, numKvHeads, headDim,
        heads.maxPositions());
    attendToCache(q, kCache, vCache, slots, positions, heads, scale, out);
  }

  private static AttentionKernels.Heads heads(Tensor kCache, int numHeads, int numKvHeads, int headDim) {
    return new AttentionKernels.Heads(numHeads, numKvHeads, headDim, Math.toIntExact(kCache.shape()[1]));
  }

  /**
   * Attention of q's rows over their slots' cached positions 0..P. With more rows than the cache has slots,
   * rows share slots, as a prefill's do: {@code attention_prefill} reads each key once per block of rows.
   * Otherwise (a decode step: one row per slot) the flash-decoding partials, then their merge. The choice
   * depends only on shapes, so a recorded decode step always takes the same path.
   */
  private void attendToCache(Tensor q, Tensor kCache, Tensor vCache, Tensor slots, Tensor positions,
      AttentionKernels.Heads heads, float scale, Tensor out) {
    int rows = Math.toIntExact(q.rows());
    long slotIds = ints(slots, "slots");
    long positionIds = ints(positions, "positions");
    if (rows > kCache.shape()[0]) {
      AttentionKernels.prefill(launcher, activation(q), activation(kCache), activation(vCache), slotIds, positionIds,
          activation(out), rows, heads, scale);
      return;
    }
    int splits = AttentionKernels.decodeSplits(launcher, rows, heads);
    long partials = scratch.attentionPartials.atLeast(AttentionKernels.decodePartialBytes(rows, heads, splits));
    AttentionKernels.decode(launcher, activation(q), activation(kCache), activation(vCache), slotIds, positionIds,
        partials, activation(out), rows, heads, splits, scale);
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    OpShapes.check(up, gate.shape());
    OpShapes.check(out, gate.shape());
    ElementwiseKernels.siluMul(launcher, activation(gate), activation(up), activation(out),
        OpShapes.elements(gate.shape()));
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    OpShapes.check(b, a.shape());
    OpShapes.check(out, a.shape());
    ElementwiseKernels.add(launcher, activation(a), activation(b), activation(out), OpShapes.elements(a.shape()));
  }

  // ---- repeated steps -------------------------------------------------------------------------------

  /**
   * Captures {@code ops} as a CUDA graph, after running them once with the step's own temporaries: that run
   * sizes them (they must not grow during capture, nor move afterwards), lets the driver and cuBLAS load
   * whatever they load lazily, and surfaces a failing op as itself rather than as a broken capture.
   */
  @Override
  public StepGraph record(Runnable ops) {
    if (!graphs) {
      return StepGraph.eager(ops);
    }
    context.makeCurrent();
    OpScratch own = new OpScratch(stream);
    scratch = own;
    try {
      ops.run();
      stream.synchronize();
      CapturedStep step = new CapturedStep(CudaGraph.capture(stream, ops), own);
      liveSteps.add(step);
      return step;
    } catch (RuntimeException | Error e) {
      own.close();
      throw e;
    } finally {
      scratch = eagerScratch;
    }
  }

  /** A recorded step: its graph and the temporaries the graph was captured with. */
  private final class CapturedStep implements StepGraph {
    private final CudaGraph graph;
    private final OpScratch temporaries;

    CapturedStep(CudaGraph graph, OpScratch temporaries) {
      this.graph = graph;
      this.temporaries = temporaries;
    }

    @Override
    public void run() {
      graph.launch(stream);
    }

    @Override
    public void close() {
      if (liveSteps.remove(this)) {
        free();
      }
    }

    /** Waits until no replay can still use the temporaries, then frees them and the graph. */
    void free() {
      stream.synchronize();
      try {
        graph.close();
      } finally {
        temporaries.close();
      }
    }
  }

  // ---- sampling -------------------------------------------------------------------------------------

  @Override
  public int[] sample(Tensor logits, SamplingParams params, int[][] history, double[] uniforms) {
    return sampler.sample(activation(logits), Math.toIntExact(logits.rows()),
        Math.toIntExact(logits.cols()), params, history, uniforms);
  }

  @Override
  public void useOnThisThread() {
    context.makeCurrent();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    context.makeCurrent();
    stream.synchronize();
    List<CapturedStep> steps = new ArrayList<>(liveSteps);
    liveSteps.clear();
    steps.forEach(CapturedStep::free);
    List<CudaTensor> open = new ArrayList<>(live);
    live.clear();
    open.forEach(CudaTensor::free);
    List<AutoCloseable> parts = List.of(sampler, eagerScratch, cublas, kernels, stream);
    closeAll(parts);
    if (ownsContext) {
      context.close();
    }
  }

  // ---- helpers --------------------------------------------------------------------------------------

  /** Called by {@link CudaTensor#close}: waits until no enqueued op can still touch the memory, then frees it. */
  void release(CudaTensor tensor) {
    if (live.remove(tensor)) {
      stream.synchronize();
      tensor.free();
    }
  }

  private CudaTensor allocateTensor(DType dtype, long... shape) {
    CudaTensor tensor = new CudaTensor(this, DeviceBuffer.allocate(OpShapes.elements(shape) * dtype.byteSize()), dtype,
        shape, false);
    live.add(tensor);
    return tensor;
  }

  private CudaTensor own(Tensor t) {
    if (!(t instanceof CudaTensor c) || c.owner() != this) {
      throw new IllegalArgumentException("tensor does not belong to this CUDA backend");
    }
    return c;
  }

  /** The device address of {@code t}, which must be of {@code dtype}. */
  private long address(Tensor t, DType dtype, String what) {
    CudaTensor c = own(t);
    if (c.dtype() != dtype) {
      throw new IllegalArgumentException(what + " must be " + dtype + ", got " + c);
    }
    return c.address();
  }

  private long activation(Tensor t) {
    return address(t, DType.F32, "activation");
  }

  private long floats(Tensor t, String what) {
    return address(t, DType.F32, what);
  }

  private long bf16(Tensor t, String what) {
    return address(t, DType.BF16, what);
  }

  private long ints(Tensor t, String what) {
    return address(t, DType.I32, what);
  }

  /** A direct buffer holding {@code data}'s remaining bytes from offset 0 (copied if the source is on the heap). */
  private static ByteBuffer direct(ByteBuffer data) {
    ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (view.isDirect()) {
      return view;
    }
    ByteBuffer copy = ByteBuffer.allocateDirect(view.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(view).flip();
    return copy;
  }

  private static void closeAll(List<AutoCloseable> parts) {
    RuntimeException first = null;
    for (AutoCloseable part : parts) {
      try {
        part.close();
      } catch (Exception e) {
        if (first == null) {
          first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
