// RMSNorm as Hugging Face Qwen2/Llama compute it: in float32, variance = mean(x^2), then
// out = weight * (x * 1/sqrt(variance + eps)). One block per row; the row is read twice (sum of squares,
// then the scaled write), which costs nothing next to the matmuls around it. add_rms_norm fuses the residual
// add before it.
//
// Parameter list checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

#define NORM_THREADS 256

__device__ __forceinline__ float bf16_to_float(unsigned int h) {
  return __uint_as_float((h & 0xffffu) << 16);
}

// The sum over the block of every thread's value; every thread gets it. Launched with NORM_THREADS threads.
__device__ __forceinline__ float block_sum(float sum, float* partial) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  }
  if ((threadIdx.x & 31) == 0) {
    partial[threadIdx.x >> 5] = sum;
  }
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < (int)(blockDim.x >> 5); ++w) {
    total += partial[w];
  }
  return total;
}

// 1 / sqrt(mean + eps), correctly rounded (NVRTC defaults): rsqrtf would be off by up to 2 ulp.
__device__ __forceinline__ float inverse_rms(float sum_of_squares, int cols, float eps) {
  return __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(sum_of_squares, (float)cols), eps)));
}

// x and out [rows, cols] float32 (out may alias x: every thread reads its elements before the reduction's
// barrier and writes them after it); weight bf16 [cols]. Launch with rows blocks of NORM_THREADS threads.
extern "C" __global__ void rms_norm(const float* x, const unsigned short* weight, float* out, float eps, int cols) {
  __shared__ float partial[NORM_THREADS / 32];
  const float* row = x + (unsigned long long)blockIdx.x * cols;
  float* target = out + (unsigned long long)blockIdx.x * cols;

  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    sum = fmaf(row[c], row[c], sum);
  }
  const float inverse = inverse_rms(block_sum(sum, partial), cols, eps);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    target[c] = __fmul_rn(bf16_to_float(weight[c]), __fmul_rn(row[c], inverse));
  }
}

// residual += delta, then out = rms_norm(residual): the residual add that closes a transformer block fused
// with the norm that opens the next, one launch and one pass over the row instead of two. The arithmetic and
// its order are add's and rms_norm's, so the results are bit for bit those of the two kernels. residual,
// delta and out [rows, cols] float32, out distinct from both; weight bf16 [cols]. Each thread writes back the
// residual elements it owns and rereads only those. Launch with rows blocks of NORM_THREADS threads.
extern "C" __global__ void add_rms_norm(float* residual, const float* delta, const unsigned short* weight,
                                        float* out, float eps, int cols) {
  __shared__ float partial[NORM_THREADS / 32];
  float* row = residual + (unsigned long long)blockIdx.x * cols;
  const float* added = delta + (unsigned long long)blockIdx.x * cols;
  float* target = out + (unsigned long long)blockIdx.x * cols;

  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float value = __fadd_rn(row[c], added[c]);
    row[c] = value;
    sum = fmaf(value, value, sum);
  }
  const float inverse = inverse_rms(block_sum(sum, partial), cols, eps);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    target[c] = __fmul_rn(bf16_to_float(weight[c]), __fmul_rn(row[c], inverse));
  }
}
