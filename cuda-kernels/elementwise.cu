// Elementwise kernels of the CUDA generation backend (dev.amalgam.backend.cuda.CudaBackend).
// Activations are float32; weights are bf16 (stored as unsigned short, converted with integer arithmetic
// so no CUDA header is needed and NVRTC compiles fast). Every kernel strides over its elements with the
// whole grid, so one launch shape serves any size.
//
// The parameter lists are part of a contract with dev.amalgam.backend.cuda.GenerationKernels, which a unit
// test checks against this file: change both sides together.

// Element type codes shared with GenerationKernels.dtypeCode (the same numbers as merge.cu).
#define AMALGAM_F32 0
#define AMALGAM_F16 1
#define AMALGAM_BF16 2

__device__ __forceinline__ float bf16_to_float(unsigned int h) {
  return __uint_as_float((h & 0xffffu) << 16);
}

// Round to nearest even; NaN stays NaN (quiet bit set).
__device__ __forceinline__ unsigned short float_to_bf16(float f) {
  unsigned int bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return (unsigned short)(((bits >> 16) | 0x0040u) & 0xffffu);
  }
  unsigned int rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return (unsigned short)(((bits + rounding_bias) >> 16) & 0xffffu);
}

__device__ __forceinline__ float f16_to_float(unsigned int half) {
  unsigned int h = half & 0xffffu;
  unsigned int sign = (h & 0x8000u) << 16;
  unsigned int exponent = (h >> 10) & 0x1fu;
  unsigned int mantissa = h & 0x3ffu;
  if (exponent == 0x1fu) {
    return __uint_as_float(sign | 0x7f800000u | (mantissa << 13));
  }
  if (exponent == 0u) {
    float magnitude = __fmul_rn((float)mantissa, __uint_as_float(0x33800000u));  // mantissa * 2^-24, exact
    return sign == 0u ? magnitude : -magnitude;
  }
  return __uint_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

__device__ __forceinline__ unsigned long long grid_start() {
  return (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ unsigned long long grid_stride() {
  return (unsigned long long)gridDim.x * blockDim.x;
}

// out[t, :] = table[ids[t], :]; table bf16 [vocab, hidden], out float32 [rows, hidden].
extern "C" __global__ void embedding_gather(const unsigned short* table, const int* ids, float* out, int rows,
                                            int hidden) {
  const unsigned long long n = (unsigned long long)rows * hidden;
  for (unsigned long long e = grid_start(); e < n; e += grid_stride()) {
    const unsigned long long row = e / hidden;
    const unsigned long long col = e - row * hidden;
    out[e] = bf16_to_float(table[(unsigned long long)ids[row] * hidden + col]);
  }
}

// Any of f32 / f16 / bf16 to bf16, rounding to nearest even: weights on upload, activations before cuBLAS.
extern "C" __global__ void convert_to_bf16(const void* src, int src_dtype, unsigned short* out,
                                           unsigned long long n) {
  for (unsigned long long e = grid_start(); e < n; e += grid_stride()) {
    if (src_dtype == AMALGAM_F32) {
      out[e] = float_to_bf16(static_cast<const float*>(src)[e]);
    } else if (src_dtype == AMALGAM_F16) {
      // Every finite half is exact in float32, so this rounds once.
      out[e] = float_to_bf16(f16_to_float(static_cast<const unsigned short*>(src)[e]));
    } else {
      out[e] = static_cast<const unsigned short*>(src)[e];
    }
  }
}

// out[t, c] += bias[c]: the bias of a linear layer, after the cuBLAS product.
extern "C" __global__ void add_bias(float* out, const unsigned short* bias, int rows, int cols) {
  const unsigned long long n = (unsigned long long)rows * cols;
  for (unsigned long long e = grid_start(); e < n; e += grid_stride()) {
    out[e] = out[e] + bf16_to_float(bias[e % cols]);
  }
}

// out = silu(gate) * up with silu(x) = x / (1 + exp(-x)), as torch computes it in float32. out may alias
// gate or up: each element is read before it is written, by the same thread.
extern "C" __global__ void silu_mul(const float* gate, const float* up, float* out, unsigned long long n) {
  for (unsigned long long e = grid_start(); e < n; e += grid_stride()) {
    const float g = gate[e];
    const float silu = __fdiv_rn(g, __fadd_rn(1.0f, expf(-g)));
    out[e] = __fmul_rn(silu, up[e]);
  }
}

// out = a + b; out may alias a or b (residual add).
extern "C" __global__ void add(const float* a, const float* b, float* out, unsigned long long n) {
  for (unsigned long long e = grid_start(); e < n; e += grid_stride()) {
    out[e] = __fadd_rn(a[e], b[e]);
  }
}
