package dev.amalgam.backend.cuda;

import static org.bytedeco.cuda.global.cudart.cuMemcpyDtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuMemsetD8Async;

import dev.amalgam.backend.Backend;
import dev.amalgam.backend.Projection;
import dev.amalgam.backend.SamplingParams;
import dev.amalgam.backend.StepGraph;
import dev.amalgam.backend.Tensor;
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
  private static final int ELEMENTWISE_THREADS = 256;
  /** Enough resident blocks per multiprocessor for the grid-stride kernels to saturate memory bandwidth. */
  private static final int BLOCKS_PER_MULTIPROCESSOR = 8;
  /** Upper bound on attention's sequence splits: the partials grow with it, and 32 fill an H100 from one row. */
  private static final int MAX_ATTENTION_SPLITS = 32;
  /** The most linear layers of one input that {@code gemv_bf16} computes in one launch. */
  private static final int GEMV_LAYERS = 3;

  private final CudaContext context;
  private final boolean ownsContext;
  private final CudaStream stream;
  private final GenerationKernels kernels;
  private final Cublas cublas;
  private final boolean graphs;
  /** The temporaries of ops issued one by one. */
  private final OpScratch eagerScratch;
  /** The temporaries the ops being issued use: {@link #eagerScratch}, or a step's own while it is recorded. */
  private OpScratch scratch;
  private final DeviceSampler sampler;
  private final int maxBlocks;
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
    } catch (RuntimeException e) {
      closeAll(opened);
      throw e;
    }
    this.eagerScratch = new OpScratch(stream);
    this.scratch = eagerScratch;
    this.sampler = new DeviceSampler(stream, kernels);
    this.maxBlocks = Math.max(1, context.device().multiprocessors() * BLOCKS_PER_MULTIPROCESSOR);
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
    } catch (RuntimeException e) {
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
    long count = elementCount(weight.shape());
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
        convertToBf16(staging.address(), source, tensor.address(), count);
        stream.synchronize(); // before the staging buffer is freed
      }
    }
    return tensor;
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
    convertToBf16(resident.address(), resident.dtype(), tensor.address(), resident.elementCount());
    stream.synchronize();
    resident.close();
    return tensor;
  }

  @Override
  public Tensor uploadFloats(float[] values, long... shape) {
    if (elementCount(shape) != values.length) {
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
    CudaTensor weights = expect(table, DType.BF16, "embedding table");
    int rows = Math.toIntExact(ids.shape()[0]);
    int hidden = Math.toIntExact(table.cols());
    checkShape(out, rows, hidden);
    kernels.get("embedding_gather").launch(stream, blocksFor((long) rows * hidden), 1, 1, ELEMENTWISE_THREADS,
        weights.address(), expect(ids, DType.I32, "ids").address(), activation(out).address(), rows, hidden);
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
    int rows = Math.toIntExact(x.rows());
    int cols = Math.toIntExact(x.cols());
    checkShape(out, rows, cols);
    checkShape(weight, cols);
    kernels.get("rms_norm").launch(stream, rows, 1, 1, GenerationKernels.NORM_THREADS, activation(x).address(),
        expect(weight, DType.BF16, "norm weight").address(), activation(out).address(), eps, cols);
  }

  @Override
  public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
    int rows = Math.toIntExact(residual.rows());
    int cols = Math.toIntExact(residual.cols());
    checkShape(delta, rows, cols);
    checkShape(out, rows, cols);
    checkShape(weight, cols);
    if (out == residual || out == delta) {
      throw new IllegalArgumentException("addRmsNorm's output must be distinct from its inputs");
    }
    kernels.get("add_rms_norm").launch(stream, rows, 1, 1, GenerationKernels.NORM_THREADS,
        activation(residual).address(), activation(delta).address(),
        expect(weight, DType.BF16, "norm weight").address(), activation(out).address(), eps, cols);
  }

  @Override
  public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
    project(x, List.of(new Projection(weight, bias, out)));
  }

  /**
   * Up to {@link #GEMV_LAYERS} layers of at most {@link GenerationKernels#GEMV_MAX_ROWS} rows go through one
   * {@code gemv_bf16} launch with their biases fused; larger inputs are converted to bf16 once, then each layer
   * is a cuBLAS GEMM followed by its bias.
   */
  @Override
  public void project(Tensor x, List<Projection> projections) {
    int rows = Math.toIntExact(x.rows());
    int in = Math.toIntExact(x.cols());
    for (Projection p : projections) {
      checkProjection(x, p);
    }
    if (projections.isEmpty()) {
      return;
    }
    if (fitsGemv(rows, in) && projections.size() <= GEMV_LAYERS) {
      Object[] args = new Object[3 + 4 * GEMV_LAYERS];
      args[0] = activation(x).address();
      args[1] = rows;
      args[2] = in;
      int features = 0;
      for (int i = 0; i < GEMV_LAYERS; i++) {
        Projection p = i < projections.size() ? projections.get(i) : null;
        int layerFeatures = p == null ? 0 : Math.toIntExact(p.out().cols());
        args[3 + 4 * i] = p == null ? 0L : expect(p.weight(), DType.BF16, "linear weight").address();
        args[4 + 4 * i] = p == null || p.bias() == null ? 0L : expect(p.bias(), DType.BF16, "bias").address();
        args[5 + 4 * i] = p == null ? 0L : activation(p.out()).address();
        args[6 + 4 * i] = layerFeatures;
        features += layerFeatures;
      }
      int warps = GenerationKernels.GEMV_WARPS;
      kernels.get("gemv_bf16").launch(stream, (features + warps - 1) / warps, 1, 1, warps * 32, args);
      return;
    }
    long xBf16 = matmulInput(x);
    for (Projection p : projections) {
      int outFeatures = Math.toIntExact(p.out().cols());
      cublas.linearBf16(xBf16, expect(p.weight(), DType.BF16, "linear weight").address(),
          activation(p.out()).address(), rows, in, outFeatures);
      if (p.bias() != null) {
        kernels.get("add_bias").launch(stream, blocksFor((long) rows * outFeatures), 1, 1, ELEMENTWISE_THREADS,
            activation(p.out()).address(), expect(p.bias(), DType.BF16, "bias").address(), rows, outFeatures);
      }
    }
  }

  /** Decode-sized inputs: one {@code gemv_bf16_swiglu} launch; larger ones {@link #project} and {@code silu_mul}. */
  @Override
  public void swiGlu(Tensor x, Projection gate, Projection up) {
    checkProjection(x, gate);
    checkProjection(x, up);
    checkShape(up.out(), gate.out().shape());
    int rows = Math.toIntExact(x.rows());
    int in = Math.toIntExact(x.cols());
    if (!fitsGemv(rows, in)) {
      project(x, List.of(gate, up));
      siluMul(gate.out(), up.out(), gate.out());
      return;
    }
    int features = Math.toIntExact(gate.out().cols());
    int warps = GenerationKernels.GEMV_WARPS;
    kernels.get("gemv_bf16_swiglu").launch(stream, (features + warps - 1) / warps, 1, 1, warps * 32,
        activation(x).address(), expect(gate.weight(), DType.BF16, "gate weight").address(),
        gate.bias() == null ? 0L : expect(gate.bias(), DType.BF16, "gate bias").address(),
        expect(up.weight(), DType.BF16, "up weight").address(),
        up.bias() == null ? 0L : expect(up.bias(), DType.BF16, "up bias").address(), activation(gate.out()).address(),
        rows, in, features);
  }

  private static boolean fitsGemv(int rows, int in) {
    return rows <= GenerationKernels.GEMV_MAX_ROWS && in % 8 == 0;
  }

  private static void checkProjection(Tensor x, Projection p) {
    long outFeatures = p.weight().shape()[0];
    checkShape(p.weight(), outFeatures, x.cols());
    checkShape(p.out(), x.rows(), outFeatures);
    if (p.bias() != null) {
      checkShape(p.bias(), outFeatures);
    }
    if (p.out() == x) {
      throw new IllegalArgumentException("a linear layer's output must be distinct from its input");
    }
  }

  /** x rounded to bf16 in the temporaries, as cuBLAS multiplies it. */
  private long matmulInput(Tensor x) {
    long count = elementsOf(x);
    long xBf16 = scratch.matmulInput.atLeast(2 * count);
    convertToBf16(activation(x).address(), DType.F32, xBf16, count);
    return xBf16;
  }

  @Override
  public void rope(Tensor x, Tensor positions, Tensor invFreq, int headDim) {
    int rows = Math.toIntExact(x.rows());
    int heads = Math.toIntExact(x.cols() / headDim);
    if (headDim % 2 != 0 || x.cols() % headDim != 0) {
      throw new IllegalArgumentException("rows of " + x.cols() + " are not heads of " + headDim);
    }
    checkShape(positions, rows);
    checkShape(invFreq, headDim / 2);
    kernels.get("rope").launch(stream, blocksFor((long) rows * heads * (headDim / 2)), 1, 1, ELEMENTWISE_THREADS,
        activation(x).address(), expect(positions, DType.I32, "positions").address(),
        expect(invFreq, DType.F32, "inverse frequencies").address(), rows, heads, headDim);
  }

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots, Tensor positions,
      int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    checkAttention(q, k, v, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, out);
    int rows = Math.toIntExact(q.rows());
    int kvDim = numKvHeads * headDim;
    kernels.get("kv_store").launch(stream, blocksFor((long) rows * kvDim), 1, 1, ELEMENTWISE_THREADS,
        activation(k).address(), activation(v).address(), activation(kCache).address(),
        activation(vCache).address(), expect(slots, DType.I32, "slots").address(),
        expect(positions, DType.I32, "positions").address(), rows, kvDim, Math.toIntExact(kCache.shape()[1]));
    attendToCache(q, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, scale, out);
  }

  /** RoPE of q and k and the KV-cache store in one {@code rope_kv_store} launch, then the attention kernels. */
  @Override
  public void rotaryAttention(Tensor q, Tensor k, Tensor v, Tensor invFreq, Tensor kCache, Tensor vCache,
      Tensor slots, Tensor positions, int numHeads, int numKvHeads, int headDim, float scale, Tensor out) {
    checkAttention(q, k, v, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, out);
    checkShape(invFreq, headDim / 2);
    int rows = Math.toIntExact(q.rows());
    kernels.get("rope_kv_store").launch(stream, blocksFor((long) rows * (numHeads + numKvHeads) * (headDim / 2)),
        1, 1, ELEMENTWISE_THREADS, activation(q).address(), activation(k).address(), activation(v).address(),
        activation(kCache).address(), activation(vCache).address(), expect(slots, DType.I32, "slots").address(),
        expect(positions, DType.I32, "positions").address(),
        expect(invFreq, DType.F32, "inverse frequencies").address(), rows, numHeads, numKvHeads, headDim,
        Math.toIntExact(kCache.shape()[1]));
    attendToCache(q, kCache, vCache, slots, positions, numHeads, numKvHeads, headDim, scale, out);
  }

  private static void checkAttention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor slots,
      Tensor positions, int numHeads, int numKvHeads, int headDim, Tensor out) {
    if (headDim % 32 != 0 || headDim > GenerationKernels.MAX_HEAD_DIM || numHeads % numKvHeads != 0) {
      throw new IllegalArgumentException("the CUDA attention takes head sizes that are multiples of 32 up to "
          + GenerationKernels.MAX_HEAD_DIM + " and query heads in whole groups; got head_dim " + headDim + ", "
          + numHeads + " heads over " + numKvHeads + " KV heads");
    }
    long rows = q.rows();
    long kvDim = (long) numKvHeads * headDim;
    long[] cacheShape = kCache.shape();
    checkShape(q, rows, (long) numHeads * headDim);
    checkShape(out, rows, (long) numHeads * headDim);
    checkShape(k, rows, kvDim);
    checkShape(v, rows, kvDim);
    checkShape(kCache, cacheShape[0], cacheShape[1], kvDim);
    checkShape(vCache, cacheShape[0], cacheShape[1], kvDim);
    checkShape(slots, rows);
    checkShape(positions, rows);
  }

  /**
   * Attention of q's rows over their slots' cached positions 0..P. With more rows than the cache has slots,
   * rows share slots, as a prefill's do: {@code attention_prefill} reads each key once per block of rows.
   * Otherwise (a decode step: one row per slot) the flash-decoding partials, then their merge. The choice
   * depends only on shapes, so a recorded decode step always takes the same path.
   */
  private void attendToCache(Tensor q, Tensor kCache, Tensor vCache, Tensor slots, Tensor positions, int numHeads,
      int numKvHeads, int headDim, float scale, Tensor out) {
    int rows = Math.toIntExact(q.rows());
    int maxPositions = Math.toIntExact(kCache.shape()[1]);
    if (rows > kCache.shape()[0]) {
      int blocks = (rows + GenerationKernels.PREFILL_ROWS - 1) / GenerationKernels.PREFILL_ROWS;
      kernels.get("attention_prefill").launch(stream, blocks, numHeads, 1, GenerationKernels.PREFILL_ROWS * 32,
          activation(q).address(), activation(kCache).address(), activation(vCache).address(),
          expect(slots, DType.I32, "slots").address(), expect(positions, DType.I32, "positions").address(),
          activation(out).address(), rows, numHeads, numKvHeads, headDim, maxPositions, scale);
      return;
    }
    int splits = attentionSplits(rows, numHeads, maxPositions);
    long parts = (long) rows * numHeads * splits;
    long partialO = scratch.attentionPartials.atLeast(4 * parts * (headDim + 2));
    long partialMl = partialO + 4 * parts * headDim;
    kernels.get("attention_partial").launch(stream, rows, numHeads, splits, GenerationKernels.ATTENTION_WARPS * 32,
        activation(q).address(), activation(kCache).address(), activation(vCache).address(),
        expect(slots, DType.I32, "slots").address(), expect(positions, DType.I32, "positions").address(), partialO,
        partialMl, numHeads, numKvHeads, headDim, maxPositions, scale);
    kernels.get("attention_combine").launch(stream, rows, numHeads, 1, headDim, partialO, partialMl,
        activation(out).address(), numHeads, headDim, splits);
  }

  /**
   * Parts each row's positions are split into: enough blocks for a few per multiprocessor even for one row
   * and few heads (flash decoding), one part when the rows alone fill the GPU (a large batch). It depends only on
   * shapes, never on the positions, so a decode step always launches the same grid.
   */
  private int attentionSplits(int rows, int numHeads, int maxPositions) {
    long wanted = 4L * context.device().multiprocessors();
    long perPart = (long) rows * numHeads;
    long splits = (wanted + perPart - 1) / perPart;
    return (int) Math.max(1, Math.min(Math.min(splits, MAX_ATTENTION_SPLITS), maxPositions));
  }

  @Override
  public void siluMul(Tensor gate, Tensor up, Tensor out) {
    long n = elementsOf(gate);
    checkShape(up, gate.shape());
    checkShape(out, gate.shape());
    kernels.get("silu_mul").launch(stream, blocksFor(n), 1, 1, ELEMENTWISE_THREADS, activation(gate).address(),
        activation(up).address(), activation(out).address(), n);
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    long n = elementsOf(a);
    checkShape(b, a.shape());
    checkShape(out, a.shape());
    kernels.get("add").launch(stream, blocksFor(n), 1, 1, ELEMENTWISE_THREADS, activation(a).address(),
        activation(b).address(), activation(out).address(), n);
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
    } catch (RuntimeException e) {
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
    return sampler.sample(activation(logits).address(), Math.toIntExact(logits.rows()),
        Math.toIntExact(logits.cols()), params, history, uniforms);
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
    CudaTensor tensor = new CudaTensor(this, DeviceBuffer.allocate(elementCount(shape) * dtype.byteSize()), dtype,
        shape, false);
    live.add(tensor);
    return tensor;
  }

  private void convertToBf16(long source, DType sourceType, long target, long count) {
    kernels.get("convert_to_bf16").launch(stream, blocksFor(count), 1, 1, ELEMENTWISE_THREADS, source,
        GenerationKernels.dtypeCode(sourceType), target, count);
  }

  private int blocksFor(long elements) {
    return (int) Math.max(1, Math.min(maxBlocks, (elements + ELEMENTWISE_THREADS - 1) / ELEMENTWISE_THREADS));
  }

  private CudaTensor own(Tensor t) {
    if (!(t instanceof CudaTensor c) || c.owner() != this) {
      throw new IllegalArgumentException("tensor does not belong to this CUDA backend");
    }
    return c;
  }

  private CudaTensor expect(Tensor t, DType dtype, String what) {
    CudaTensor c = own(t);
    if (c.dtype() != dtype) {
      throw new IllegalArgumentException(what + " must be " + dtype + ", got " + c);
    }
    return c;
  }

  private CudaTensor activation(Tensor t) {
    return expect(t, DType.F32, "activation");
  }

  private static void checkShape(Tensor t, long... shape) {
    if (!Arrays.equals(t.shape(), shape)) {
      throw new IllegalArgumentException("expected shape " + Arrays.toString(shape) + ", got " + t);
    }
  }

  private static long elementsOf(Tensor t) {
    return elementCount(t.shape());
  }

  private static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
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
