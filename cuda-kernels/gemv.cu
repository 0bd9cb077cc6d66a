// Matrix-vector products for the decode step's linear layers: a few activation rows (one per sequence of the
// batch) times a bf16 weight, where cuBLAS would need the activations converted to bf16 first and the bias
// added after (three launches, against one here). Reading the weight once is all the work, so each warp owns
// one output feature and streams its weight row with 16-byte loads, every row of x against it.
//
// The activations are rounded to bf16 before the multiply, as the cuBLAS path rounds its inputs, so both
// paths compute the same products and differ only in the order of the float32 accumulation.
//
// Parameter list checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

#define GEMV_WARPS 8
#define GEMV_MAX_ROWS 8

__device__ __forceinline__ float bf16_low(unsigned int pair) {
  return __uint_as_float(pair << 16);
}

__device__ __forceinline__ float bf16_high(unsigned int pair) {
  return __uint_as_float(pair & 0xffff0000u);
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

// out[t, o] = sum_i bf16(x[t, i]) * weight[o, i] (+ bias[o] when bias is not null), for t < rows.
// x float32 [rows, in]; weight bf16 [out_features, in]; bias bf16 [out_features] or null; out float32
// [rows, out_features]. rows <= GEMV_MAX_ROWS; in a multiple of 8 and x, weight 16-byte aligned (whole
// 8-element chunks). Launch ceil(out_features / GEMV_WARPS) blocks of GEMV_WARPS * 32 threads.
extern "C" __global__ void gemv_bf16(const float* __restrict__ x, const unsigned short* __restrict__ weight,
                                     const unsigned short* __restrict__ bias, float* __restrict__ out, int rows,
                                     int in, int out_features) {
  const int lane = threadIdx.x & 31;
  const int feature = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
  if (feature >= out_features) {
    return;  // the whole warp leaves together, and no barrier follows
  }
  const int chunks = in / 8;
  const uint4* w_row = reinterpret_cast<const uint4*>(weight + (unsigned long long)feature * in);

  float acc[GEMV_MAX_ROWS];
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    acc[t] = 0.0f;
  }
#pragma unroll 4
  for (int c = lane; c < chunks; c += 32) {
    const uint4 packed = w_row[c];
    const float w[8] = {bf16_low(packed.x), bf16_high(packed.x), bf16_low(packed.y), bf16_high(packed.y),
                        bf16_low(packed.z), bf16_high(packed.z), bf16_low(packed.w), bf16_high(packed.w)};
#pragma unroll
    for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
      if (t < rows) {
        const float4* xs = reinterpret_cast<const float4*>(x + (unsigned long long)t * in) + 2 * c;
        const float4 a = xs[0];
        const float4 b = xs[1];
        float sum = acc[t];
        sum = fmaf(round_to_bf16(a.x), w[0], sum);
        sum = fmaf(round_to_bf16(a.y), w[1], sum);
        sum = fmaf(round_to_bf16(a.z), w[2], sum);
        sum = fmaf(round_to_bf16(a.w), w[3], sum);
        sum = fmaf(round_to_bf16(b.x), w[4], sum);
        sum = fmaf(round_to_bf16(b.y), w[5], sum);
        sum = fmaf(round_to_bf16(b.z), w[6], sum);
        sum = fmaf(round_to_bf16(b.w), w[7], sum);
        acc[t] = sum;
      }
    }
  }

  const float b = bias == nullptr ? 0.0f : __uint_as_float((unsigned int)bias[feature] << 16);
#pragma unroll
  for (int t = 0; t < GEMV_MAX_ROWS; ++t) {
    if (t < rows) {
      float sum = acc[t];
      for (int offset = 16; offset > 0; offset >>= 1) {
        sum += __shfl_xor_sync(0xffffffffu, sum, offset);
      }
      if (lane == 0) {
        out[(unsigned long long)t * out_features + feature] = sum + b;
      }
    }
  }
}
