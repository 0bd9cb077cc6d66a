// RMSNorm as Hugging Face Qwen2/Llama compute it: in float32, variance = mean(x^2), then
// out = weight * (x * 1/sqrt(variance + eps)). One block per row; the row is read twice (sum of squares,
// then the scaled write), which costs nothing next to the matmuls around it.
//
// Parameter list checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

#define NORM_THREADS 256

__device__ __forceinline__ float bf16_to_float(unsigned int h) {
  return __uint_as_float((h & 0xffffu) << 16);
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
  // Correctly rounded division and square root (NVRTC defaults): rsqrtf would be off by up to 2 ulp.
  const float inverse = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(__fdiv_rn(total, (float)cols), eps)));
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    target[c] = __fmul_rn(bf16_to_float(weight[c]), __fmul_rn(row[c], inverse));
  }
}
