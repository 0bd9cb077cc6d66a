// Weighted sum of up to 8 tensors: out = (x0*w0 + x1*w1 + ...) [/ divisor], computed in float32 and
// rounded once to the output dtype (round to nearest even, NaN stays NaN). With task_vectors, input 0 is a
// base b and the others are summed as task vectors, in mergekit's order:
// out = b + lambda * ((x1 - b)*w1 + (x2 - b)*w2 + ...) [/ divisor], weights[0] unused. With consensus as well
// (TIES' sign election), per element: wd_i = (x_i - b)*w_i; the sign of wd_1 + wd_2 + ... is elected (+ for 0);
// only the wd_i of that sign count, and the divisor is the sum of their weights (1 where it is 0). With sce as
// well (SCE), an element is kept only where the variance of the task vectors is at least the cut, the sign is
// elected by the unweighted task vectors, and the divisor is at least 1e-6.
// Before any of that, each task vector is thinned (dev.amalgam.merge.TaskVectorThinning): element e of input i
// becomes ((x_i - b) * kept) * scale_i, kept by magnitude cuts and by a random draw: the bit the host drew into
// keep_bits where it did (DARE's rescale pass, DELLA's ranks), else, for DARE, Philox here.
// The weights may differ by segment (a row or a column: slerp, nuslerp, model_stock per row), read from
// segment_values. Other element ops (op) take the base and one model: nearswap, and arcee_fusion's mask, whose
// rows' KL divergences sit in segment_values.
//
// The arithmetic must be bit-identical to the Java reference (dev.amalgam.tensor.FloatBits and the
// test's MergeReference), so:
//   * every product and sum is an explicit __fmul_rn / __fadd_rn: the compiler may not contract them
//     into an FMA, whose single rounding would differ from Java's two;
//   * the dtype conversions are the same integer recipes as FloatBits, with no CUDA headers, which also
//     keeps NVRTC compiles fast.
//
// Layout contract with dev.amalgam.backend.cuda.MergeKernel: MergeArgs is passed by value and its
// offsets are asserted below; change both sides together.

#define AMALGAM_MAX_INPUTS 8

// Element type codes shared with MergeKernel.dtypeCode.
#define AMALGAM_F32 0
#define AMALGAM_F16 1
#define AMALGAM_BF16 2

// segment_kind: the ordinals of dev.amalgam.merge.TensorRule.Segments.
#define AMALGAM_SEGMENTS_TENSOR 0
#define AMALGAM_SEGMENTS_ROWS 1
#define AMALGAM_SEGMENTS_COLUMNS 2
// op: the weighted sum (with or without task vectors), or an element op over the base (input 0) and input 1.
#define AMALGAM_OP_SUM 0
#define AMALGAM_OP_NEARSWAP 1
#define AMALGAM_OP_FUSION 2

struct MergeArgs {
  const void* inputs[AMALGAM_MAX_INPUTS];  // 16-byte aligned for the vector path, else the scalar path runs
  void* output;
  unsigned long long count;                // elements
  float weights[AMALGAM_MAX_INPUTS];
  int input_dtypes[AMALGAM_MAX_INPUTS];
  int input_count;
  int output_dtype;
  float divisor;
  int normalize;                           // nonzero: divide the sum by divisor
  int task_vectors;                        // nonzero: input 0 is the base, the others are summed as x - base
  float lambda;                            // scales the summed task vectors
  int consensus;                           // nonzero (with task_vectors): TIES' sign election
  // With task_vectors: input i's task vector keeps the elements with keep_from[i] <= bits(|x - b|) <= keep_to[i]
  // (the float32 bit patterns; 0 and 0x7fffffff keep all).
  unsigned int keep_from[AMALGAM_MAX_INPUTS];
  unsigned int keep_to[AMALGAM_MAX_INPUTS];
  float scale[AMALGAM_MAX_INPUTS];         // L1 rescale factor of each thinned task vector (1: none)
  // With random: input i's element e is kept when its Philox uniform is below keep_probability[i] (1: always).
  float keep_probability[AMALGAM_MAX_INPUTS];
  int random;
  unsigned int seed_lo, seed_hi;           // the merge's seed
  unsigned int tensor_key;                 // KeepDraws.tensorKey of the tensor's name
  unsigned long long first_element;        // the tensor's index of this launch's element 0 (a chunk's start)
  int sce;                                 // nonzero (with consensus): SCE's selection, election and divisor
  unsigned int variance_cut;               // SCE: the smallest variance bit pattern kept (0: all)
  // Per input, null or the drawn keep bits of this launch's elements: bit e % 32 of word e / 32.
  const unsigned int* keep_bits[AMALGAM_MAX_INPUTS];
  // Per segment (dev.amalgam.merge.TensorRule.Segments), segment_stride values: with segment_kind ROWS, from the
  // row of first_element on; with COLUMNS, every column's. segment_kind TENSOR leaves them unused.
  const float* segment_values;
  unsigned long long segment_length;       // a row's elements (ROWS), or the number of columns (COLUMNS)
  int segment_kind;
  int segment_stride;
  int op;                                  // AMALGAM_OP_*
  float op_parameter;                      // nearswap's t, or arcee_fusion's threshold
  // mergekit's arithmetic: 0, or the work dtype (AMALGAM_F16 or AMALGAM_BF16) that the inputs, the weights and
  // each operation's result are rounded to, sums accumulating in float32 (dev.amalgam.merge.WorkRounding).
  int rounding;
};

static_assert(sizeof(MergeArgs) == 440, "MergeArgs layout is shared with MergeKernel.java");
// NVRTC has no offsetof (not even __builtin_offsetof), so the member offsets are checked by the nvcc build
// check (CudaKernelsCompileTest), and the size by both compilers.
#ifndef __CUDACC_RTC__
static_assert(__builtin_offsetof(MergeArgs, output) == 64, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, count) == 72, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, weights) == 80, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, input_dtypes) == 112, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, input_count) == 144, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, output_dtype) == 148, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, divisor) == 152, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, normalize) == 156, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, task_vectors) == 160, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, lambda) == 164, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, consensus) == 168, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, keep_from) == 172, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, keep_to) == 204, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, scale) == 236, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, keep_probability) == 268, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, random) == 300, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, seed_lo) == 304, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, seed_hi) == 308, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, tensor_key) == 312, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, first_element) == 320, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, sce) == 328, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, variance_cut) == 332, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, keep_bits) == 336, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, segment_values) == 400, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, segment_length) == 408, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, segment_kind) == 416, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, segment_stride) == 420, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, op) == 424, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, op_parameter) == 428, "MergeArgs layout");
static_assert(__builtin_offsetof(MergeArgs, rounding) == 432, "MergeArgs layout");
#endif

// One 16-byte load or store: 8 half-width elements or 4 float32.
struct alignas(16) Vec16 {
  unsigned int x, y, z, w;
};

__device__ __forceinline__ float bf16_to_float(unsigned int h) {
  return __uint_as_float((h & 0xffffu) << 16);
}

__device__ __forceinline__ unsigned int float_to_bf16(float f) {
  unsigned int bits = __float_as_uint(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return ((bits >> 16) | 0x0040u) & 0xffffu;
  }
  unsigned int rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return ((bits + rounding_bias) >> 16) & 0xffffu;
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
    // Subnormal: mantissa * 2^-24, exact in float32 (0x33800000 is 2^-24).
    float magnitude = __fmul_rn((float)mantissa, __uint_as_float(0x33800000u));
    return sign == 0u ? magnitude : -magnitude;
  }
  return __uint_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

__device__ __forceinline__ unsigned int float_to_f16(float f) {
  unsigned int bits = __float_as_uint(f);
  unsigned int sign = (bits >> 16) & 0x8000u;
  unsigned int abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) {
    return sign | 0x7e00u | ((abs >> 13) & 0x3ffu);
  }
  if (abs >= 0x477ff000u) {  // rounds to 65536 or more: infinity
    return sign | 0x7c00u;
  }
  if (abs < 0x38800000u) {  // below the smallest normal half: round the subnormal in integer arithmetic
    int shift = 126 - (int)(abs >> 23);
    if (shift > 24) {
      return sign;
    }
    unsigned int mantissa = (abs & 0x7fffffu) | 0x800000u;
    unsigned int truncated = mantissa >> shift;
    unsigned int rest = mantissa & ((1u << shift) - 1u);
    unsigned int halfway = 1u << (shift - 1);
    unsigned int round_up = (rest > halfway || (rest == halfway && (truncated & 1u) == 1u)) ? 1u : 0u;
    return sign | (truncated + round_up);
  }
  unsigned int rounded = abs - 0x38000000u + 0xfffu + ((abs >> 13) & 1u);
  return sign | (rounded >> 13);
}

__device__ __forceinline__ float half_width_to_float(unsigned int bits, int dtype) {
  return dtype == AMALGAM_BF16 ? bf16_to_float(bits) : f16_to_float(bits);
}

__device__ __forceinline__ unsigned int float_to_half_width(float value, int dtype) {
  return dtype == AMALGAM_BF16 ? float_to_bf16(value) : float_to_f16(value);
}

__device__ __forceinline__ float load_element(const void* base, int dtype, unsigned long long i) {
  if (dtype == AMALGAM_F32) {
    return static_cast<const float*>(base)[i];
  }
  return half_width_to_float(static_cast<const unsigned short*>(base)[i], dtype);
}

__device__ __forceinline__ void store_element(void* base, int dtype, unsigned long long i, float value) {
  if (dtype == AMALGAM_F32) {
    static_cast<float*>(base)[i] = value;
  } else {
    static_cast<unsigned short*>(base)[i] = (unsigned short)float_to_half_width(value, dtype);
  }
}

// Loads elements 8g .. 8g+7 with 16-byte loads.
__device__ __forceinline__ void load_group(const void* base, int dtype, unsigned long long g, float x[8]) {
  const Vec16* v = static_cast<const Vec16*>(base);
  if (dtype == AMALGAM_F32) {
    Vec16 a = v[2 * g];
    Vec16 b = v[2 * g + 1];
    x[0] = __uint_as_float(a.x); x[1] = __uint_as_float(a.y);
    x[2] = __uint_as_float(a.z); x[3] = __uint_as_float(a.w);
    x[4] = __uint_as_float(b.x); x[5] = __uint_as_float(b.y);
    x[6] = __uint_as_float(b.z); x[7] = __uint_as_float(b.w);
  } else {
    Vec16 a = v[g];
    unsigned int words[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {  // little-endian: the lower element sits in the low half-word
      x[2 * k] = half_width_to_float(words[k] & 0xffffu, dtype);
      x[2 * k + 1] = half_width_to_float(words[k] >> 16, dtype);
    }
  }
}

__device__ __forceinline__ void store_group(void* base, int dtype, unsigned long long g, const float y[8]) {
  Vec16* v = static_cast<Vec16*>(base);
  if (dtype == AMALGAM_F32) {
    Vec16 a = {__float_as_uint(y[0]), __float_as_uint(y[1]), __float_as_uint(y[2]), __float_as_uint(y[3])};
    Vec16 b = {__float_as_uint(y[4]), __float_as_uint(y[5]), __float_as_uint(y[6]), __float_as_uint(y[7])};
    v[2 * g] = a;
    v[2 * g + 1] = b;
  } else {
    unsigned int words[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      words[k] = float_to_half_width(y[2 * k], dtype) | (float_to_half_width(y[2 * k + 1], dtype) << 16);
    }
    Vec16 a = {words[0], words[1], words[2], words[3]};
    v[g] = a;
  }
}

// x rounded to the work dtype in mergekit's arithmetic; x itself otherwise.
__device__ __forceinline__ float rd(float x, const MergeArgs& args) {
  return args.rounding == 0 ? x : half_width_to_float(float_to_half_width(x, args.rounding), args.rounding);
}

// An input's elements 8g .. 8g+7 as the arithmetic reads them (rounded to the work dtype, as mergekit casts).
__device__ __forceinline__ void load_work_group(int i, unsigned long long g, float x[8], const MergeArgs& args) {
  load_group(args.inputs[i], args.input_dtypes[i], g, x);
#pragma unroll
  for (int k = 0; k < 8; ++k) {
    x[k] = rd(x[k], args);
  }
}

__device__ __forceinline__ float load_work_element(int i, unsigned long long e, const MergeArgs& args) {
  return rd(load_element(args.inputs[i], args.input_dtypes[i], e), args);
}

// The reference order: acc = x0*w0; acc = acc + xi*wi for i = 1..; then one division when normalizing.
// `first` says whether x is the first term of the sum. In mergekit's arithmetic the weight and each product are
// rounded, the sum is not (finish rounds it).
__device__ __forceinline__ float combine(float acc, float x, float w, bool first, const MergeArgs& args) {
  float product = rd(__fmul_rn(x, rd(w, args)), args);
  return first ? product : __fadd_rn(acc, product);
}

// After the sum: its division when normalizing; for task vectors, base + lambda * that; each step rounded in
// mergekit's arithmetic, lambda too (as torch 1.13 casts a Python scalar to the tensor's dtype).
__device__ __forceinline__ float finish(float acc, float base, const MergeArgs& args) {
  acc = rd(acc, args);
  if (args.normalize) {
    acc = rd(__fdiv_rn(acc, args.divisor), args);
  }
  if (!args.task_vectors) {
    return acc;
  }
  if (args.lambda != 1.0f) {
    acc = rd(__fmul_rn(acc, rd(args.lambda, args)), args);
  }
  return rd(__fadd_rn(base, acc), args);
}

// Philox4x32-10 (dev.amalgam.merge.KeepDraws): element e of input i takes word e % 4 of the block for counter
// (e / 4, tensor_key, i) under the merge's seed, as a uniform number (word >> 8) * 2^-24.
__device__ __forceinline__ float keep_uniform(unsigned long long e, int i, const MergeArgs& args) {
  const unsigned long long block = e >> 2;
  unsigned int c[4] = {(unsigned int)block, (unsigned int)(block >> 32), args.tensor_key, (unsigned int)i};
  unsigned int k0 = args.seed_lo;
  unsigned int k1 = args.seed_hi;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const unsigned int hi0 = __umulhi(0xD2511F53u, c[0]);
    const unsigned int lo0 = 0xD2511F53u * c[0];
    const unsigned int hi1 = __umulhi(0xCD9E8D57u, c[2]);
    const unsigned int lo1 = 0xCD9E8D57u * c[2];
    c[0] = hi1 ^ c[1] ^ k0;
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ k1;
    c[3] = lo0;
  }
  return __fmul_rn((float)(c[e & 3ull] >> 8), __uint_as_float(0x33800000u));  // exact: a 24-bit integer * 2^-24
}

// Whether input i's thinning keeps element e (of the launch), whose task vector is delta: its magnitude cuts, and
// its random draw (the bit the host drew into keep_bits where it did, else, with random, Philox here).
__device__ __forceinline__ bool thinning_keeps(float delta, int i, unsigned long long e, const MergeArgs& args) {
  const unsigned int bits = __float_as_uint(delta) & 0x7fffffffu;
  bool kept = bits >= args.keep_from[i] && bits <= args.keep_to[i];
  if (args.keep_bits[i] != nullptr) {
    kept = kept && ((args.keep_bits[i][e >> 5] >> (e & 31ull)) & 1u) != 0u;
  } else if (args.random && args.keep_probability[i] < 1.0f) {
    kept = kept && keep_uniform(args.first_element + e, i, args) < args.keep_probability[i];
  }
  return kept;
}

// ((x - b) * kept) * scale: the task vector's element e (of the launch), thinned. kept is 0 where input i's
// magnitude cuts or its random draw drop it; multiplied by 0 as in torch, so its zero keeps the task vector's sign.
__device__ __forceinline__ float task_element(float x, float b, int i, unsigned long long e, const MergeArgs& args) {
  const float delta = rd(__fsub_rn(x, b), args);
  const float kept = thinning_keeps(delta, i, e, args) ? 1.0f : 0.0f;
  return rd(__fmul_rn(__fmul_rn(delta, kept), args.scale[i]), args);
}


// The bit pattern of SCE's variance of one element's task vectors td[1 .. input_count-1]: the mean, then the mean
// square deviation, in the order of dev.amalgam.merge.TensorStatistics.selectByVariance.
__device__ __forceinline__ unsigned int sce_variance_bits(const float* td, const MergeArgs& args) {
  const float models = (float)(args.input_count - 1);
  float sum = td[1];
  for (int i = 2; i < args.input_count; ++i) {
    sum = __fadd_rn(sum, td[i]);
  }
  const float mean = __fdiv_rn(sum, models);
  float squares = 0.0f;
  for (int i = 1; i < args.input_count; ++i) {
    const float d = __fsub_rn(td[i], mean);
    squares = i == 1 ? __fmul_rn(d, d) : __fadd_rn(squares, __fmul_rn(d, d));
  }
  return __float_as_uint(__fdiv_rn(squares, models)) & 0x7fffffffu;
}

// SCE's selection of one element: its task vectors times 0 where their variance's bit pattern is under the cut.
__device__ __forceinline__ void sce_select(float* td, const MergeArgs& args) {
  const float kept = sce_variance_bits(td, args) >= args.variance_cut ? 1.0f : 0.0f;
  for (int i = 1; i < args.input_count; ++i) {
    td[i] = __fmul_rn(td[i], kept);
  }
}

// One element of a sign-elected merge, from its thinned task vectors td[1 .. input_count-1], in the order of
// dev.amalgam.merge.LinearKernel.runWithConsensus. A masked-out term is multiplied by 0, not skipped, so signed
// zeros come out as in torch; NaN agrees with neither sign.
__device__ __forceinline__ float consensus_element(float* td, float base, const MergeArgs& args) {
  if (args.sce) {
    sce_select(td, args);
  }
  float sum = args.sce ? td[1] : rd(__fmul_rn(td[1], rd(args.weights[1], args)), args);
  for (int i = 2; i < args.input_count; ++i) {
    sum = __fadd_rn(sum, args.sce ? td[i] : rd(__fmul_rn(td[i], rd(args.weights[i], args)), args));
  }
  const bool positive = rd(sum, args) >= 0.0f;
  float mixed = 0.0f;
  float divisor = 0.0f;
  for (int i = 1; i < args.input_count; ++i) {
    const float w = rd(args.weights[i], args);
    const float wd = rd(__fmul_rn(td[i], w), args);
    const float vote = args.sce ? td[i] : wd;
    const float agrees = (positive ? vote > 0.0f : vote < 0.0f) ? 1.0f : 0.0f;
    const float term = __fmul_rn(wd, agrees);
    const float weight = __fmul_rn(w, agrees);
    mixed = i == 1 ? term : __fadd_rn(mixed, term);
    divisor = i == 1 ? weight : __fadd_rn(divisor, weight);
  }
  mixed = rd(mixed, args);
  divisor = rd(divisor, args);
  if (args.sce) {
    mixed = __fdiv_rn(mixed, divisor < 1e-6f ? 1e-6f : divisor);  // torch's clamp: a NaN stays NaN
  } else if (args.normalize) {
    mixed = __fdiv_rn(mixed, divisor == 0.0f ? 1.0f : divisor);
  }
  mixed = rd(mixed, args);
  if (args.lambda != 1.0f) {
    mixed = rd(__fmul_rn(mixed, rd(args.lambda, args)), args);
  }
  return rd(__fadd_rn(base, mixed), args);
}

// Value i of the segment that holds element e of the launch (dev.amalgam.merge.RuleStatistics.weights).
__device__ __forceinline__ float segment_value(int i, unsigned long long e, const MergeArgs& args) {
  const unsigned long long element = args.first_element + e;
  const unsigned long long segment = args.segment_kind == AMALGAM_SEGMENTS_ROWS
      ? element / args.segment_length - args.first_element / args.segment_length
      : element % args.segment_length;
  return args.segment_values[segment * (unsigned long long)args.segment_stride + (unsigned long long)i];
}

// Input i's weight for element e: the same for the whole launch, or its segment's.
__device__ __forceinline__ float weight_of(int i, unsigned long long e, const MergeArgs& args) {
  return args.segment_kind == AMALGAM_SEGMENTS_TENSOR ? args.weights[i] : segment_value(i, e, args);
}

// nearswap and arcee_fusion over the base b and the model x (both as the arithmetic reads them), in the order of
// dev.amalgam.merge.PairKernel. In mergekit's arithmetic, t / distance is torch 1.13's reciprocal(distance) * t.
__device__ __forceinline__ float pair_element(float x, float b, unsigned long long e, const MergeArgs& args) {
  if (args.op == AMALGAM_OP_NEARSWAP) {
    const float distance = fabsf(rd(__fsub_rn(b, x), args));
    const float floor = rd(1e-6f, args);
    const float nearest = distance < floor ? floor : distance;
    float w = args.rounding == 0 ? __fdiv_rn(args.op_parameter, nearest)
        : rd(__fmul_rn(rd(__fdiv_rn(1.0f, nearest), args), rd(args.op_parameter, args)), args);
    w = w > 1.0f ? 1.0f : (w < 0.0f ? 0.0f : w);
    const float model = rd(__fmul_rn(w, x), args);
    const float kept = rd(__fmul_rn(rd(__fsub_rn(1.0f, w), args), b), args);
    return rd(__fadd_rn(model, kept), args);
  }
  const float delta = rd(__fsub_rn(x, b), args);
  const float importance = __fmul_rn(fabsf(delta), segment_value(0, e, args));
  return __fadd_rn(b, __fmul_rn(delta, importance >= args.op_parameter ? 1.0f : 0.0f));
}

__device__ __forceinline__ bool all_aligned(const MergeArgs& args) {
  unsigned long long bits = (unsigned long long)args.output;
  for (int i = 0; i < args.input_count; ++i) {
    bits |= (unsigned long long)args.inputs[i];
  }
  return (bits & 15ull) == 0ull;
}

extern "C" __global__ void merge_weighted_sum(const MergeArgs args) {
  const unsigned long long n = args.count;
  const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
  const unsigned long long first = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;

  // The first input summed: the base is not a term of the sum.
  const int summed = args.task_vectors ? 1 : 0;
  unsigned long long scalar_start = 0ull;
  if (all_aligned(args)) {
    const unsigned long long groups = n / 8ull;
    for (unsigned long long g = first; g < groups; g += stride) {
      float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
      float base[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
      if (args.op != AMALGAM_OP_SUM) {
        float x[8];
        load_work_group(0, g, base, args);
        load_work_group(1, g, x, args);
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          acc[k] = pair_element(x[k], base[k], 8ull * g + k, args);
        }
        store_group(args.output, args.output_dtype, g, acc);
        continue;
      }
      if (args.task_vectors) {
        load_work_group(0, g, base, args);
      }
      if (args.consensus) {
        float td[8][AMALGAM_MAX_INPUTS];  // [element][input]
        for (int i = 1; i < args.input_count; ++i) {
          float x[8];
          load_work_group(i, g, x, args);
#pragma unroll
          for (int k = 0; k < 8; ++k) {
            td[k][i] = task_element(x[k], base[k], i, 8ull * g + k, args);
          }
        }
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          acc[k] = consensus_element(td[k], base[k], args);
        }
        store_group(args.output, args.output_dtype, g, acc);
        continue;
      }
      for (int i = summed; i < args.input_count; ++i) {
        float x[8];
        load_work_group(i, g, x, args);
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          float term = args.task_vectors ? task_element(x[k], base[k], i, 8ull * g + k, args) : x[k];
          acc[k] = combine(acc[k], term, weight_of(i, 8ull * g + k, args), i == summed, args);
        }
      }
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        acc[k] = finish(acc[k], base[k], args);
      }
      store_group(args.output, args.output_dtype, g, acc);
    }
    scalar_start = groups * 8ull;
  }

  // The tail after the last whole group, or everything when a pointer is not 16-byte aligned.
  for (unsigned long long e = scalar_start + first; e < n; e += stride) {
    float acc = 0.0f;
    if (args.op != AMALGAM_OP_SUM) {
      store_element(args.output, args.output_dtype, e,
                    pair_element(load_work_element(1, e, args), load_work_element(0, e, args), e, args));
      continue;
    }
    const float base = args.task_vectors ? load_work_element(0, e, args) : 0.0f;
    if (args.consensus) {
      float td[AMALGAM_MAX_INPUTS];
      for (int i = 1; i < args.input_count; ++i) {
        td[i] = task_element(load_work_element(i, e, args), base, i, e, args);
      }
      store_element(args.output, args.output_dtype, e, consensus_element(td, base, args));
      continue;
    }
    for (int i = summed; i < args.input_count; ++i) {
      const float x = load_work_element(i, e, args);
      acc = combine(acc, args.task_vectors ? task_element(x, base, i, e, args) : x, weight_of(i, e, args), i == summed,
                    args);
    }
    acc = finish(acc, base, args);
    store_element(args.output, args.output_dtype, e, acc);
  }
}

// Whole-tensor statistics (dev.amalgam.merge.DeviceStatistics), found before a tensor's element op, over the same
// MergeArgs: per input i >= 1, its task vector d_i = x_i - b as task_element reads it. A launch covers elements
// [0, count) of inputs already on the device, usually the whole tensor.
#define AMALGAM_STATISTIC_MAGNITUDE 0  // per input in `channels`: |d_i|
#define AMALGAM_STATISTIC_VARIANCE 1   // SCE: the variance of the task vectors (one channel, slot 0)
#define AMALGAM_HISTOGRAM_BINS 65536
#define AMALGAM_HIGH_PASS 0xffffffffu
#define AMALGAM_SUM_THREADS 256

// The task vectors of element e, unthinned: td[1 .. input_count-1].
__device__ __forceinline__ void task_vectors_of(unsigned long long e, float* td, const MergeArgs& args) {
  const float base = load_work_element(0, e, args);
  for (int i = 1; i < args.input_count; ++i) {
    td[i] = rd(__fsub_rn(load_work_element(i, e, args), base), args);
  }
}

// One pattern into a channel's histogram (dev.amalgam.merge.RadixSelection): in the high pass, its high 16 bits,
// and zeros in the last bin; in the low pass, its low 16 bits where its high 16 are high_bin.
__device__ __forceinline__ void count_bits(unsigned int* histogram, unsigned int bits, unsigned int high_bin) {
  if (high_bin == AMALGAM_HIGH_PASS) {
    atomicAdd(histogram + (bits >> 16), 1u);
    if (bits == 0u) {
      atomicAdd(histogram + AMALGAM_HISTOGRAM_BINS, 1u);
    }
  } else if ((bits >> 16) == high_bin) {
    atomicAdd(histogram + (bits & 0xffffu), 1u);
  }
}

// Histograms of the statistic's float32 bit patterns, channel slot c at histogram + c * (BINS + 1): for
// MAGNITUDE, slot i for each input i whose bit is set in channels; for VARIANCE, slot 0. Counts are integers, so
// the order of the atomic additions does not matter.
extern "C" __global__ void merge_statistics_histogram(const MergeArgs args, unsigned int* histogram, int statistic,
                                                      unsigned int channels, unsigned int high_bin) {
  const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
  for (unsigned long long e = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; e < args.count; e += stride) {
    float td[AMALGAM_MAX_INPUTS];
    task_vectors_of(e, td, args);
    if (statistic == AMALGAM_STATISTIC_VARIANCE) {
      count_bits(histogram, sce_variance_bits(td, args), high_bin);
      continue;
    }
    for (int i = 1; i < args.input_count; ++i) {
      if ((channels >> i) & 1u) {
        count_bits(histogram + i * (AMALGAM_HISTOGRAM_BINS + 1), __float_as_uint(td[i]) & 0x7fffffffu, high_bin);
      }
    }
  }
}

// Per block of block_length elements (one CUDA block each), float64 sums in a fixed order, at
// sums[(block * MAX_INPUTS + i) * 2 + k]: for MAGNITUDE, per input i in channels, the L1 norm of its task vector
// (k = 0) and of what its thinning keeps (k = 1), kept as task_element keeps; for VARIANCE, per input, the sum of
// squares of its task vector where SCE's selection keeps it (k = 0). Thread t adds elements t, t + 256, ... in
// sequence, and the 256 lanes are added in a tree, as dev.amalgam.merge.LaneSums does, so the CPU gets the same bits.
extern "C" __global__ void merge_statistics_block_sums(const MergeArgs args, double* sums, int statistic,
                                                       unsigned int channels, unsigned long long block_length) {
  __shared__ double lanes[AMALGAM_SUM_THREADS];
  const unsigned long long start = (unsigned long long)blockIdx.x * block_length;
  const unsigned long long end = start + block_length < args.count ? start + block_length : args.count;
  double acc[2 * AMALGAM_MAX_INPUTS];
  for (int q = 0; q < 2 * AMALGAM_MAX_INPUTS; ++q) {
    acc[q] = 0.0;
  }
  for (unsigned long long e = start + threadIdx.x; e < end; e += AMALGAM_SUM_THREADS) {
    float td[AMALGAM_MAX_INPUTS];
    task_vectors_of(e, td, args);
    if (statistic == AMALGAM_STATISTIC_VARIANCE) {
      const float kept = sce_variance_bits(td, args) >= args.variance_cut ? 1.0f : 0.0f;
      for (int i = 1; i < args.input_count; ++i) {
        const float selected = __fmul_rn(td[i], kept);
        acc[2 * i] = __dadd_rn(acc[2 * i], (double)__fmul_rn(selected, selected));
      }
      continue;
    }
    for (int i = 1; i < args.input_count; ++i) {
      if ((channels >> i) & 1u) {
        const float magnitude = fabsf(td[i]);
        const float kept = thinning_keeps(td[i], i, e, args) ? 1.0f : 0.0f;
        acc[2 * i] = __dadd_rn(acc[2 * i], (double)magnitude);
        acc[2 * i + 1] = __dadd_rn(acc[2 * i + 1], (double)__fmul_rn(magnitude, kept));
      }
    }
  }
  for (int q = 2; q < 2 * args.input_count; ++q) {
    lanes[threadIdx.x] = acc[q];
    __syncthreads();
    for (unsigned int half = AMALGAM_SUM_THREADS / 2; half > 0; half >>= 1) {
      if (threadIdx.x < half) {
        lanes[threadIdx.x] = __dadd_rn(lanes[threadIdx.x], lanes[threadIdx.x + half]);
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      sums[(unsigned long long)blockIdx.x * 2 * AMALGAM_MAX_INPUTS + q] = lanes[0];
    }
    __syncthreads();
  }
}

// DELLA's keep bits (dev.amalgam.merge.RankedProbabilities), one block per row of `cols` elements: element j of the
// row has the ascending rank r of its task vector's magnitude among the row's (equal magnitudes by position), is
// kept with probability low + ((r / (cols - 1)) * 2) * epsilon (0.5 in place of the fraction for a row of one), and
// is kept when its Philox uniform is below that: then its bit is set in keep_bits (bit e % 32 of word e / 32, for
// the launch's element e; the words zeroed before). The rank counts the row in tiles of keys kept in shared memory:
// cols comparisons per element, which a GPU does for the seed model's rows (at most 8960 long) in milliseconds.
#define AMALGAM_RANK_TILE 2048

__device__ __forceinline__ unsigned int magnitude_key(unsigned long long e, int i, const MergeArgs& args) {
  const float delta = rd(__fsub_rn(load_work_element(i, e, args), load_work_element(0, e, args)), args);
  return __float_as_uint(delta) & 0x7fffffffu;
}

extern "C" __global__ void merge_della_keep_bits(const MergeArgs args, unsigned int* keep_bits, int input,
                                                 unsigned long long cols, float low, float epsilon) {
  __shared__ unsigned int tile[AMALGAM_RANK_TILE];
  const unsigned long long first = (unsigned long long)blockIdx.x * cols;
  const unsigned long long rounds = (cols + blockDim.x - 1) / blockDim.x;
  for (unsigned long long round = 0; round < rounds; ++round) {
    const unsigned long long j = round * blockDim.x + threadIdx.x;
    const bool mine = j < cols;
    const unsigned int key = mine ? magnitude_key(first + j, input, args) : 0u;
    unsigned long long rank = 0;
    for (unsigned long long from = 0; from < cols; from += AMALGAM_RANK_TILE) {
      const unsigned long long length = cols - from < AMALGAM_RANK_TILE ? cols - from : AMALGAM_RANK_TILE;
      for (unsigned long long k = threadIdx.x; k < length; k += blockDim.x) {
        tile[k] = magnitude_key(first + from + k, input, args);
      }
      __syncthreads();
      if (mine) {
        for (unsigned long long k = 0; k < length; ++k) {
          const unsigned int other = tile[k];
          rank += (other < key || (other == key && from + k < j)) ? 1ull : 0ull;
        }
      }
      __syncthreads();
    }
    if (mine) {
      const float fraction = cols == 1 ? 0.5f : __fdiv_rn((float)rank, (float)(cols - 1));
      const float probability = __fadd_rn(low, __fmul_rn(__fmul_rn(fraction, 2.0f), epsilon));
      const unsigned long long e = first + j;
      if (keep_uniform(args.first_element + e, input, args) < probability) {
        atomicOr(keep_bits + (e >> 5), 1u << (e & 31ull));
      }
    }
  }
}
