package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGemmEx;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusName;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetWorkspace_v2;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/**
 * A cuBLAS handle bound to one stream, for the linear layers: bf16 weights times bf16 activations with
 * float32 accumulation and a float32 result. Device addresses go to cuBLAS as {@link RawAddress} pointers.
 *
 * <p>The handle works in a workspace of ours, so that cuBLAS never allocates while a stream is captured as a
 * CUDA graph. All graphs share it, which is safe because they replay on the one stream, one after another.
 */
public final class Cublas implements AutoCloseable {
  /** NVIDIA's recommended workspace for Hopper (32 MiB; 4 MiB suffices for older GPUs). */
  static final long WORKSPACE_BYTES = 32L << 20;

  private static String unavailable;
  private static boolean probed;

  private final cublasContext handle;
  private final DeviceBuffer workspace;
  // Host-side scalars (the default pointer mode), read when each call is enqueued.
  private final FloatPointer one = new FloatPointer(1f);
  private final FloatPointer zero = new FloatPointer(0f);
  private boolean destroyed;

  private Cublas(cublasContext handle, DeviceBuffer workspace) {
    this.handle = handle;
    this.workspace = workspace;
  }

  /**
   * Why cuBLAS cannot be used here, or null when it can. The driver and NVRTC may load while
   * {@code libcublas.so.13} is missing; that must be a reason, not an {@link UnsatisfiedLinkError}.
   */
  public static synchronized String unavailableReason() {
    if (!probed) {
      probed = true;
      try {
        Loader.load(cublas.class);
      } catch (LinkageError e) {
        unavailable = "cuBLAS cannot be loaded (libcublas.so.13 and libcublasLt.so.13 from the CUDA 13 toolkit): " + e;
      }
    }
    return unavailable;
  }

  /** Needs a current context. */
  public static Cublas create(CudaStream stream) {
    DeviceBuffer workspace = DeviceBuffer.allocate(WORKSPACE_BYTES);
    cublasContext handle = new cublasContext();
    int status = cublasCreate_v2(handle);
    if (status != CUBLAS_STATUS_SUCCESS) {
      workspace.close();
      check(status, "cublasCreate");
    }
    Cublas created = new Cublas(handle, workspace);
    try {
      check(cublasSetStream_v2(handle, stream.handle()), "cublasSetStream");
      // After cublasSetStream, which resets the handle to cuBLAS's own workspace pool.
      check(cublasSetWorkspace_v2(handle, new RawAddress(workspace.address()), WORKSPACE_BYTES), "cublasSetWorkspace");
    } catch (RuntimeException e) {
      created.close();
      throw e;
    }
    return created;
  }

  /**
   * {@code out[rows, outFeatures] = x[rows, inFeatures] · weight[outFeatures, inFeatures]ᵀ}, all row-major: x
   * and weight bf16, out float32. In cuBLAS's column-major terms that is {@code outᵀ = weightᵀᵀ · xᵀ}: the
   * row-major weight is a column-major {@code [in, out]} matrix used transposed.
   */
  public void linearBf16(long x, long weight, long out, int rows, int inFeatures, int outFeatures) {
    check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, outFeatures, rows, inFeatures,
        one, new RawAddress(weight), CUDA_R_16BF, inFeatures,
        new RawAddress(x), CUDA_R_16BF, inFeatures,
        zero, new RawAddress(out), CUDA_R_32F, outFeatures,
        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
  }

  private static void check(int status, String call) {
    if (status != CUBLAS_STATUS_SUCCESS) {
      throw new CudaException(call + " failed: " + cublasGetStatusName(status).getString() + " (cublasStatus_t "
          + status + ")", status);
    }
  }

  @Override
  public synchronized void close() {
    if (!destroyed) {
      destroyed = true;
      one.close();
      zero.close();
      try {
        check(cublasDestroy_v2(handle), "cublasDestroy");
      } finally {
        workspace.close();
      }
    }
  }
}
