// Matrix-vector products for the decode step's linear layers: a few activation rows (one per sequence of the
// batch) times bf16 weights, where cuBLAS would need the activations converted to bf16 first and the bias
// added after (three launches, against one here). Reading the weights once is all the work, so each warp owns
// one output feature and streams its weight row with 16-byte loads, every row of x against it.
//
// Two kernels share that loop:
//   gemv_bf16         up to three linear layers of the same input in one launch (q, k and v of a layer);
//   gemv_bf16_swiglu  gate and up of an MLP with silu(gate) * up as the epilogue, so neither projection is
//                     written out and no elementwise kernel follows.
//
// The activations are rounded to bf16 before the multiply, as the cuBLAS path rounds its inputs, so both
// paths compute the same products and differ only in the order of the float32 accumulation.
//
// Parameter lists checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

#define GEMV_WARPS 8
#define GEMV_MAX_ROWS 8

__device__ __forceinline__ float bf16_low(unsigned int pair) {
  return __uint_as_float(pair << 16);
}

__device__ __forceinline__ float bf16_high(unsigned int pair) {
  return __uint_as_float(pair & 0xffff0000u);
}

__device__ __forceinline__ float bf16_value(unsigned short bits) {
  return __uint_as_float((unsigned int)bits << 16);
}

// Round to nearest even, as elementwise.cu's float_to_bf16 (NaN stays NaN), widened back to float32.
__device__ __forceinline__ float round_to_bf16(float f) {
  const unsigned int bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return __uint_as_float((bits | 0x00400000u) & 0xffff0000u);
  }
  const unsigned int rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return __uint_as_float((bits + rounding_bias) & 0xffff0000u);
}

// a and b rounded to bf16 as round_to_bf16 rounds them (NaN may come out as another NaN), widened back. On
// sm_80 and later one cvt instruction rounds both: the software rounding takes some ten integer operations per
// element (counted in the PTX), more than the multiply-add it feeds, which by that count would make batches of
// several rows compute-bound. The CPU emulation runs the software path; the GPU tests check this one.
__device__ __forceinline__ void round_pair_to_bf16(float a, float b, float& rounded_a, float& rounded_b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned int packed;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(a), "f"(b));  // a to the upper half, b to the lower
  rounded_a = bf16_high(packed);
  rounded_b = bf16_low(packed);
#else
  rounded_a = round_to_bf16(a);
  rounded_b = round_to_bf16(b);
#endif
}

// acc[t] += bf16(x[t, 8c .. 8c+7]) . (8 bf16 weights in packed), for t < rows.
__device__ __forceinline__ void multiply_chunk(const float* __restrict__ x, int rows, int in, int c, uint4 packed,
                                               float (&acc)[GEMV_MAX_ROWS]) {
  const float w[8] = {bf16_low(packed.x), bf16_high(packed.x), bf16_low(packed.y), bf16_high(packed.y),
                      bf16_low(packed.z), bf16_high(packed.z), bf16_low(packed.w), bf16_high(packed.w)};
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    if (t < rows) {
      const float4* xs = reinterpret_cast<const float4*>(x + (unsigned long long)t * in) + 2 * c;
      const float4 a = xs[0];
      const float4 b = xs[1];
      float r[8];
      round_pair_to_bf16(a.x, a.y, r[0], r[1]);
      round_pair_to_bf16(a.z, a.w, r[2], r[3]);
      round_pair_to_bf16(b.x, b.y, r[4], r[5]);
      round_pair_to_bf16(b.z, b.w, r[6], r[7]);
      float sum = acc[t];
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        sum = fmaf(r[i], w[i], sum);
      }
      acc[t] = sum;
    }
  }
}

__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  }
  return value;
}

// One layer: out[t, o] = sum_i bf16(x[t, i]) * weight[o, i] (+ bias[o] when bias is not null), for t < rows.
__device__ __forceinline__ void gemv_feature(const float* __restrict__ x, const unsigned short* __restrict__ weight,
                                             const unsigned short* __restrict__ bias, float* __restrict__ out,
                                             int rows, int in, int out_features, int feature, int lane) {
  const uint4* w_row = reinterpret_cast<const uint4*>(weight + (unsigned long long)feature * in);
  float acc[GEMV_MAX_ROWS];
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    acc[t] = 0.0f;
  }
#pragma unroll 4
  for (int c = lane; c < in / 8; c += 32) {
    multiply_chunk(x, rows, in, c, w_row[c], acc);
  }
  const float b = bias == nullptr ? 0.0f : bf16_value(bias[feature]);
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    if (t < rows) {
      const float sum = warp_sum(acc[t]);
      if (lane == 0) {
        out[(unsigned long long)t * out_features + feature] = sum + b;
      }
    }
  }
}

// Up to three linear layers of the same input x float32 [rows, in]: layer n has weight_n bf16 [features_n, in],
// bias_n bf16 [features_n] or null, and out_n float32 [rows, features_n]; an unused layer has features_n = 0.
// rows <= GEMV_MAX_ROWS; in a multiple of 8 and x, weights 16-byte aligned (whole 8-element chunks). Launch
// ceil((features_0 + features_1 + features_2) / GEMV_WARPS) blocks of GEMV_WARPS * 32 threads: the layers'
// output features are numbered one after another, and warp w of block b computes feature b * GEMV_WARPS + w.
extern "C" __global__ void gemv_bf16(const float* __restrict__ x, int rows, int in,
                                     const unsigned short* __restrict__ weight_0,
                                     const unsigned short* __restrict__ bias_0, float* __restrict__ out_0,
                                     int features_0, const unsigned short* __restrict__ weight_1,
                                     const unsigned short* __restrict__ bias_1, float* __restrict__ out_1,
                                     int features_1, const unsigned short* __restrict__ weight_2,
                                     const unsigned short* __restrict__ bias_2, float* __restrict__ out_2,
                                     int features_2) {
  const int lane = threadIdx.x & 31;
  const int feature = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
  // Whole warps take one branch, and no barrier follows, so a warp past the end may simply leave.
  if (feature < features_0) {
    gemv_feature(x, weight_0, bias_0, out_0, rows, in, features_0, feature, lane);
  } else if (feature < features_0 + features_1) {
    gemv_feature(x, weight_1, bias_1, out_1, rows, in, features_1, feature - features_0, lane);
  } else if (feature < features_0 + features_1 + features_2) {
    gemv_feature(x, weight_2, bias_2, out_2, rows, in, features_2, feature - features_0 - features_1, lane);
  }
}

// An MLP's input half: out[t, o] = silu(g) * u with g = x[t] . gate[o] (+ gate_bias[o]) and u = x[t] . up[o]
// (+ up_bias[o]), each summed exactly as gemv_bf16 sums it; silu(g) = g / (1 + exp(-g)), rounded as
// elementwise.cu's silu_mul, so this equals gemv_bf16 twice and then silu_mul. gate and up bf16
// [features, in], biases bf16 [features] or null, x float32 [rows, in], out float32 [rows, features]; the
// same limits as gemv_bf16. Launch ceil(features / GEMV_WARPS) blocks of GEMV_WARPS * 32 threads.
extern "C" __global__ void gemv_bf16_swiglu(const float* __restrict__ x, const unsigned short* __restrict__ gate,
                                            const unsigned short* __restrict__ gate_bias,
                                            const unsigned short* __restrict__ up,
                                            const unsigned short* __restrict__ up_bias, float* __restrict__ out,
                                            int rows, int in, int features) {
  const int lane = threadIdx.x & 31;
  const int feature = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
  if (feature >= features) {
    return;  // the whole warp leaves together, and no barrier follows
  }
  const uint4* gate_row = reinterpret_cast<const uint4*>(gate + (unsigned long long)feature * in);
  const uint4* up_row = reinterpret_cast<const uint4*>(up + (unsigned long long)feature * in);
  float gate_acc[GEMV_MAX_ROWS];
  float up_acc[GEMV_MAX_ROWS];
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    gate_acc[t] = 0.0f;
    up_acc[t] = 0.0f;
  }
#pragma unroll 2
  for (int c = lane; c < in / 8; c += 32) {
    const uint4 gate_packed = gate_row[c];
    const uint4 up_packed = up_row[c];
    multiply_chunk(x, rows, in, c, gate_packed, gate_acc);
    multiply_chunk(x, rows, in, c, up_packed, up_acc);
  }
  const float gb = gate_bias == nullptr ? 0.0f : bf16_value(gate_bias[feature]);
  const float ub = up_bias == nullptr ? 0.0f : bf16_value(up_bias[feature]);
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    if (t < rows) {
      const float g = warp_sum(gate_acc[t]) + gb;
      const float u = warp_sum(up_acc[t]) + ub;
      if (lane == 0) {
        const float silu = __fdiv_rn(g, __fadd_rn(1.0f, expf(-g)));
        out[(unsigned long long)t * features + feature] = __fmul_rn(silu, u);
      }
    }
  }
}
