// On-device token sampling: one block per row of logits, only the chosen id leaves the GPU.
//
// Follows dev.amalgam.backend.Sampler (the reference) step by step, so that the same uniform gives the
// same id as the CPU backend: repetition penalty -> greedy arg-max -> temperature -> top-k -> top-p ->
// min-p -> draw. Logit arithmetic is float32 and probabilities are float64, as there; the host compiles
// this file with --fmad=false so no product is fused into a differently rounded FMA.
//
// Where the reference sorts, this file searches instead: top-k finds the k-th largest logit by bisection
// over the float bit patterns, top-p finds the smallest probability it keeps by bisection over the double
// bit patterns, and ties at that probability are kept in ascending id order with a block-wide scan. The
// draw walks the ids in ascending order with each thread owning a contiguous range of ids.
//
// A row with a NaN or infinite logit is flagged in nonfinite[row] for the host to report as an error, and
// whatever the logits, the id written is inside [0, vocab): a draw that finds no token with p > 0 falls back
// to the arg-max, as the reference does. An id outside the vocabulary would feed the next step's embedding
// gather as an out-of-bounds read, a sticky fault that fails every later call in the process.
//
// Parameter list checked against dev.amalgam.backend.cuda.SampleKernels by a unit test.

#define SAMPLE_THREADS 1024
#define SAMPLE_WARPS (SAMPLE_THREADS / 32)
#define FULL_MASK 0xffffffffu

__device__ __forceinline__ float negative_infinity() {
  return __int_as_float(0xff800000);
}

// A key whose unsigned order is the numeric order of the floats (NaN aside).
__device__ __forceinline__ unsigned int order_key(float f) {
  const unsigned int bits = __float_as_uint(f);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Every block-wide helper starts with a barrier, so the shared scratch of the previous call is free.
__device__ double block_sum(double v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v += __shfl_xor_sync(FULL_MASK, v, offset);
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) {
    scratch[threadIdx.x >> 5] = v;
  }
  __syncthreads();
  double total = 0.0;
  for (int w = 0; w < SAMPLE_WARPS; ++w) {
    total += scratch[w];
  }
  return total;
}

__device__ float block_max(float v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) {
    scratch[threadIdx.x >> 5] = v;
  }
  __syncthreads();
  float best = (float)scratch[0];
  for (int w = 1; w < SAMPLE_WARPS; ++w) {
    best = fmaxf(best, (float)scratch[w]);
  }
  return best;
}

__device__ double block_max_double(double v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmax(v, __shfl_xor_sync(FULL_MASK, v, offset));
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) {
    scratch[threadIdx.x >> 5] = v;
  }
  __syncthreads();
  double best = scratch[0];
  for (int w = 1; w < SAMPLE_WARPS; ++w) {
    best = fmax(best, scratch[w]);
  }
  return best;
}

__device__ int block_min_int(int v, double* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = min(v, __shfl_xor_sync(FULL_MASK, v, offset));
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) {
    scratch[threadIdx.x >> 5] = (double)v;
  }
  __syncthreads();
  int best = (int)scratch[0];
  for (int w = 1; w < SAMPLE_WARPS; ++w) {
    best = min(best, (int)scratch[w]);
  }
  return best;
}

// Sum of v over the threads before this one (in threadIdx order).
__device__ double block_exclusive_scan(double v, double* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  double inclusive = v;
  for (int offset = 1; offset < 32; offset <<= 1) {
    const double before = __shfl_up_sync(FULL_MASK, inclusive, offset);
    if (lane >= offset) {
      inclusive += before;
    }
  }
  __syncthreads();
  if (lane == 31) {
    scratch[warp] = inclusive;
  }
  __syncthreads();
  double prefix = 0.0;
  for (int w = 0; w < warp; ++w) {
    prefix += scratch[w];
  }
  return prefix + (inclusive - v);
}

// The arg-max, lowest id among equal maxima (torch.argmax, Sampler.argmax).
__device__ int block_argmax(const float* w, int vocab, double* scratch) {
  float best = negative_infinity();
  int best_id = 0x7fffffff;
  if ((int)threadIdx.x < vocab) {
    best = w[threadIdx.x];
    best_id = threadIdx.x;
  }
  for (int i = threadIdx.x + blockDim.x; i < vocab; i += blockDim.x) {
    if (w[i] > best) {
      best = w[i];
      best_id = i;
    }
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float other = __shfl_xor_sync(FULL_MASK, best, offset);
    const int other_id = __shfl_xor_sync(FULL_MASK, best_id, offset);
    if (other > best || (other == best && other_id < best_id)) {
      best = other;
      best_id = other_id;
    }
  }
  __shared__ float warp_best[SAMPLE_WARPS];
  __shared__ int warp_id[SAMPLE_WARPS];
  __syncthreads();
  if ((threadIdx.x & 31) == 0) {
    warp_best[threadIdx.x >> 5] = best;
    warp_id[threadIdx.x >> 5] = best_id;
  }
  __syncthreads();
  best = warp_best[0];
  best_id = warp_id[0];
  for (int k = 1; k < SAMPLE_WARPS; ++k) {
    if (warp_best[k] > best || (warp_best[k] == best && warp_id[k] < best_id)) {
      best = warp_best[k];
      best_id = warp_id[k];
    }
  }
  return best_id;
}

// probs[i] = softmax(w)[i] in double, 0 for filtered (-inf) logits, as Sampler.softmax.
__device__ void softmax(const float* w, double* probs, int vocab, double* scratch) {
  float local_max = negative_infinity();
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    local_max = fmaxf(local_max, w[i]);
  }
  const float max = block_max(local_max, scratch);
  double local_sum = 0.0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const double e = w[i] == negative_infinity() ? 0.0 : exp((double)__fsub_rn(w[i], max));
    probs[i] = e;
    local_sum += e;
  }
  const double sum = block_sum(local_sum, scratch);
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    probs[i] = probs[i] / sum;  // each thread rescales the entries it wrote itself
  }
  __syncthreads();
}

// Drops logits below the k-th largest (ties with it stay): bisection for the largest key K with
// count(key >= K) >= k, which is the k-th largest value's key.
__device__ void keep_top_k(float* w, int vocab, int k, double* scratch) {
  unsigned long long low = 0ull;
  unsigned long long high = 0xffffffffull;
  while (low < high) {
    const unsigned long long mid = low + (high - low + 1ull) / 2ull;
    double local = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      local += order_key(w[i]) >= (unsigned int)mid ? 1.0 : 0.0;
    }
    if (block_sum(local, scratch) >= (double)k) {
      low = mid;
    } else {
      high = mid - 1ull;
    }
  }
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    if (order_key(w[i]) < (unsigned int)low) {
      w[i] = negative_infinity();
    }
  }
  __syncthreads();
}

// Keeps the most probable tokens until their total reaches p (Sampler.keepTopP). With probabilities sorted
// in descending order (ties by ascending id), a token stays iff the probabilities ranked above it sum to
// less than p. So the smallest kept probability is t = the largest value with sum(probs >= t) >= p; every
// token above t stays, every token below goes, and the tokens equal to t stay in id order while
// sum(probs > t) + (ties before it) * t < p.
__device__ void keep_top_p(float* w, double* probs, int vocab, float top_p, double* scratch) {
  softmax(w, probs, vocab, scratch);
  const double p = (double)top_p;
  double local_max = 0.0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    local_max = fmax(local_max, probs[i]);
  }
  unsigned long long low = 0ull;  // sum(probs >= 0) is the total, about 1 >= p
  unsigned long long high = (unsigned long long)__double_as_longlong(block_max_double(local_max, scratch));
  while (low < high) {
    const unsigned long long mid = low + (high - low + 1ull) / 2ull;
    const double value = __longlong_as_double((long long)mid);
    double local = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      local += probs[i] >= value ? probs[i] : 0.0;
    }
    if (block_sum(local, scratch) >= p) {
      low = mid;
    } else {
      high = mid - 1ull;
    }
  }
  const double t = __longlong_as_double((long long)low);
  if (t == 0.0) {
    return;  // rounding left the total below p: the reference keeps every token then
  }
  double local_above = 0.0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    local_above += probs[i] > t ? probs[i] : 0.0;
  }
  const double above = block_sum(local_above, scratch);
  // Ties with t: each thread owns a contiguous range of ids, so a scan gives each tie its rank among them.
  const int chunk = (vocab + blockDim.x - 1) / blockDim.x;
  const int begin = min(vocab, (int)threadIdx.x * chunk);
  const int end = min(vocab, begin + chunk);
  double ties = 0.0;
  for (int i = begin; i < end; ++i) {
    ties += probs[i] == t ? 1.0 : 0.0;
  }
  double rank = block_exclusive_scan(ties, scratch);
  for (int i = begin; i < end; ++i) {
    if (probs[i] < t) {
      w[i] = negative_infinity();
    } else if (probs[i] == t) {
      if (!(above + rank * t < p)) {
        w[i] = negative_infinity();
      }
      rank += 1.0;
    }
  }
  __syncthreads();
}

// Drops tokens with probability below min_p times the largest (Sampler.keepMinP).
__device__ void keep_min_p(float* w, double* probs, int vocab, float min_p, double* scratch) {
  softmax(w, probs, vocab, scratch);
  double local_max = 0.0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    local_max = fmax(local_max, probs[i]);
  }
  const double floor = (double)min_p * block_max_double(local_max, scratch);
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    if (probs[i] < floor) {
      w[i] = negative_infinity();
    }
  }
  __syncthreads();
}

// The first kept id, in ascending order, whose cumulative probability exceeds the uniform; the last kept
// id if rounding leaves none (Sampler.draw).
__device__ int draw(const float* w, double* probs, int vocab, double uniform, double* scratch) {
  softmax(w, probs, vocab, scratch);
  const int chunk = (vocab + blockDim.x - 1) / blockDim.x;
  const int begin = min(vocab, (int)threadIdx.x * chunk);
  const int end = min(vocab, begin + chunk);
  double own = 0.0;
  for (int i = begin; i < end; ++i) {
    own += probs[i] > 0.0 ? probs[i] : 0.0;
  }
  double cumulative = block_exclusive_scan(own, scratch);
  int found = 0x7fffffff;
  int last = -1;
  for (int i = begin; i < end; ++i) {
    if (probs[i] > 0.0) {
      cumulative += probs[i];
      last = i;
      if (found == 0x7fffffff && cumulative > uniform) {
        found = i;
      }
    }
  }
  const int first = block_min_int(found, scratch);
  if (first != 0x7fffffff) {
    return first;
  }
  return -block_min_int(-last, scratch);  // -1 when no token has p > 0: the caller falls back to the arg-max
}

// One block of SAMPLE_THREADS per row. logits [rows, vocab] is only read; work (float32) and probs (float64)
// are [rows, vocab] scratch. history holds every row's seen ids back to back, row b's at
// history[history_offsets[b] .. history_offsets[b + 1]); read only when the penalty is not 1.
extern "C" __global__ void sample_rows(const float* logits, float* work, double* probs, int* out_ids, int* nonfinite,
                                       const int* history, const int* history_offsets, const double* uniforms,
                                       int vocab, float temperature, int top_k, float top_p, float min_p,
                                       float repetition_penalty) {
  __shared__ double scratch[SAMPLE_WARPS];
  const unsigned long long row = blockIdx.x;
  const float* in = logits + row * vocab;
  float* w = work + row * vocab;
  double* p = probs + row * vocab;

  int finite = 1;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    w[i] = in[i];
    finite &= (__float_as_uint(in[i]) & 0x7f800000u) != 0x7f800000u;
  }
  finite = block_min_int(finite, scratch);
  if (repetition_penalty != 1.0f) {
    // Each distinct id once: every thread computes from the unpenalized logit, so duplicates in the
    // history write the same value.
    for (int h = history_offsets[row] + threadIdx.x; h < history_offsets[row + 1]; h += blockDim.x) {
      const int id = history[h];
      if (id >= 0 && id < vocab) {
        const float x = in[id];
        w[id] = x > 0.0f ? __fdiv_rn(x, repetition_penalty) : __fmul_rn(x, repetition_penalty);
      }
    }
    __syncthreads();
  }
  int chosen;
  if (temperature == 0.0f) {
    chosen = block_argmax(w, vocab, scratch);
  } else {
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      w[i] = __fdiv_rn(w[i], temperature);
    }
    __syncthreads();
    if (top_k > 0 && top_k < vocab) {
      keep_top_k(w, vocab, top_k, scratch);
    }
    if (top_p < 1.0f) {
      keep_top_p(w, p, vocab, top_p, scratch);
    }
    if (min_p > 0.0f) {
      keep_min_p(w, p, vocab, min_p, scratch);
    }
    chosen = draw(w, p, vocab, uniforms[row], scratch);
    if (chosen < 0) {
      chosen = block_argmax(w, vocab, scratch);
    }
  }
  if (threadIdx.x == 0) {
    out_ids[row] = chosen;
    nonfinite[row] = !finite;
  }
}
