// Causal grouped-query attention over the KV cache, in float32 (activations and cache are float32).
//
// Every row t carries its own cache slot and position P (read from device memory), and attends to cache
// positions 0..P of its slot. Nothing T x T is ever stored: scores live in registers. Two ways to divide the
// work, both exact softmax with an online (running-max) update:
//
//   attention_partial + attention_combine, for decode steps (one row per slot). Flash-decoding split: the host
//     fixes a number of splits S (so the launch shape never depends on P and a decode step stays capturable
//     as a CUDA graph); block (t, h, z) handles the z-th of S equal parts of 0..P for query head h of row t,
//     and writes an unnormalized partial result; attention_combine merges the S partials of each (t, h). With
//     few KV heads and one row, S is what fills the GPU's multiprocessors.
//
//   attention_prefill, for prefills (many rows share a slot). A block takes PREFILL_ROWS consecutive rows of
//     one query head, one warp per row, and streams their slot's keys and values through shared memory in
//     tiles of PREFILL_KEYS positions, so each is read from L2 once per block rather than once per row.
//
// Parameter lists checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

#define ATTENTION_WARPS 4
#define MAX_HEAD_DIM 256
#define MAX_DIMS_PER_LANE (MAX_HEAD_DIM / 32)
#define PREFILL_ROWS 8
#define PREFILL_KEYS 16

#define NEGATIVE_INFINITY (-__int_as_float(0x7f800000))

// Folds one key and its value (the head's head_dim floats each; lane owns elements lane + 32 * d) into a
// warp's running softmax for its query: m, the largest score so far; l, the sum of exp(score - m); o_part,
// the sum of exp(score - m) * value. The whole warp calls it with the same key.
__device__ __forceinline__ void attend_key(const float (&q_part)[MAX_DIMS_PER_LANE], const float* key,
                                           const float* value, int dims, int lane, float scale, float& m, float& l,
                                           float (&o_part)[MAX_DIMS_PER_LANE]) {
  float dot = 0.0f;
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    if (d < dims) {
      dot = fmaf(q_part[d], key[lane + 32 * d], dot);
    }
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    dot += __shfl_xor_sync(0xffffffffu, dot, offset);
  }
  const float score = dot * scale;
  const float m_new = fmaxf(m, score);
  const float rescale = expf(m - m_new);
  const float weight = expf(score - m_new);
  l = l * rescale + weight;
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    if (d < dims) {
      o_part[d] = o_part[d] * rescale + weight * value[lane + 32 * d];
    }
  }
  m = m_new;
}

// Loads row's query for head into the lane's elements (zeros past head_dim).
__device__ __forceinline__ void load_query(const float* q, int row, int head, int num_heads, int head_dim, int dims,
                                           int lane, float (&q_part)[MAX_DIMS_PER_LANE]) {
  const float* q_head = q + (unsigned long long)row * num_heads * head_dim + (unsigned long long)head * head_dim;
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    q_part[d] = d < dims ? q_head[lane + 32 * d] : 0.0f;
  }
}

// kCache/vCache [slots * max_positions, kv_dim]: row t's key and value go to row slot*max_positions + P.
extern "C" __global__ void kv_store(const float* k, const float* v, float* k_cache, float* v_cache,
                                    const int* slots, const int* positions, int rows, int kv_dim,
                                    int max_positions) {
  const unsigned long long n = (unsigned long long)rows * kv_dim;
  const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
  for (unsigned long long e = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += stride) {
    const unsigned long long row = e / kv_dim;
    const unsigned long long col = e - row * kv_dim;
    const unsigned long long target =
        ((unsigned long long)slots[row] * max_positions + positions[row]) * kv_dim + col;
    k_cache[target] = k[e];
    v_cache[target] = v[e];
  }
}

// Grid (rows, num_heads, splits), ATTENTION_WARPS * 32 threads; head_dim a multiple of 32, at most
// MAX_HEAD_DIM. Writes partial_o [rows, num_heads, splits, head_dim] (unnormalized weighted sum of values)
// and partial_ml [rows, num_heads, splits, 2] (running max of the scores, sum of exp(score - max)); an
// empty part writes max = -inf, sum = 0, o = 0.
extern "C" __global__ void attention_partial(const float* q, const float* k_cache, const float* v_cache,
                                             const int* slots, const int* positions, float* partial_o,
                                             float* partial_ml, int num_heads, int num_kv_heads, int head_dim,
                                             int max_positions, float scale) {
  __shared__ float warp_m[ATTENTION_WARPS];
  __shared__ float warp_l[ATTENTION_WARPS];
  __shared__ float warp_o[ATTENTION_WARPS][MAX_HEAD_DIM];

  const int row = blockIdx.x;
  const int head = blockIdx.y;
  const int split = blockIdx.z;
  const int splits = gridDim.z;
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  const int dims = head_dim / 32;  // elements of the head each lane owns: lane + 32 * d
  const int kv_head = head / (num_heads / num_kv_heads);
  const int kv_dim = num_kv_heads * head_dim;

  const int length = positions[row] + 1;
  const int chunk = (length + splits - 1) / splits;
  const int begin = split * chunk;
  const int end = min(length, begin + chunk);

  float q_part[MAX_DIMS_PER_LANE];
  float o_part[MAX_DIMS_PER_LANE];
  load_query(q, row, head, num_heads, head_dim, dims, lane, q_part);
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    o_part[d] = 0.0f;
  }
  const unsigned long long slot_base = (unsigned long long)slots[row] * max_positions;
  const unsigned long long head_offset = (unsigned long long)kv_head * head_dim;

  float m = NEGATIVE_INFINITY;
  float l = 0.0f;
  for (int j = begin + warp; j < end; j += ATTENTION_WARPS) {
    const unsigned long long at = (slot_base + j) * kv_dim + head_offset;
    attend_key(q_part, k_cache + at, v_cache + at, dims, lane, scale, m, l, o_part);
  }

  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    if (d < dims) {
      warp_o[warp][lane + 32 * d] = o_part[d];
    }
  }
  __syncthreads();

  float block_m = warp_m[0];
  for (int w = 1; w < ATTENTION_WARPS; ++w) {
    block_m = fmaxf(block_m, warp_m[w]);
  }
  const unsigned long long part = ((unsigned long long)row * num_heads + head) * splits + split;
  const bool empty = block_m == NEGATIVE_INFINITY;
  if (threadIdx.x == 0) {
    float block_l = 0.0f;
    if (!empty) {
      for (int w = 0; w < ATTENTION_WARPS; ++w) {
        block_l += warp_l[w] * expf(warp_m[w] - block_m);  // a warp without positions has l = 0
      }
    }
    partial_ml[2 * part] = block_m;
    partial_ml[2 * part + 1] = block_l;
  }
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    if (!empty) {
      for (int w = 0; w < ATTENTION_WARPS; ++w) {
        sum += warp_o[w][d] * expf(warp_m[w] - block_m);
      }
    }
    partial_o[part * head_dim + d] = sum;
  }
}

// Grid (rows, num_heads), head_dim threads: out[t, h] = sum_z o_z exp(m_z - M) / sum_z l_z exp(m_z - M).
// Part 0 is never empty (it starts at position 0), so M is finite.
extern "C" __global__ void attention_combine(const float* partial_o, const float* partial_ml, float* out,
                                             int num_heads, int head_dim, int splits) {
  const int row = blockIdx.x;
  const int head = blockIdx.y;
  const unsigned long long first = ((unsigned long long)row * num_heads + head) * splits;
  float max_score = partial_ml[2 * first];
  for (int z = 1; z < splits; ++z) {
    max_score = fmaxf(max_score, partial_ml[2 * (first + z)]);
  }
  float total = 0.0f;
  for (int z = 0; z < splits; ++z) {
    total += partial_ml[2 * (first + z) + 1] * expf(partial_ml[2 * (first + z)] - max_score);
  }
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    for (int z = 0; z < splits; ++z) {
      sum += partial_o[(first + z) * head_dim + d] * expf(partial_ml[2 * (first + z)] - max_score);
    }
    out[(unsigned long long)row * num_heads * head_dim + (unsigned long long)head * head_dim + d] = sum / total;
  }
}

// Grid (ceil(rows / PREFILL_ROWS), num_heads), PREFILL_ROWS * 32 threads; head_dim a multiple of 32, at most
// MAX_HEAD_DIM. Warp w computes out[t, h] for row t = blockIdx.x * PREFILL_ROWS + w and head h = blockIdx.y.
// The block's rows may belong to several slots (a batched prefill, where one prompt ends and the next
// begins): it serves them a slot at a time, each time streaming the keys up to the furthest position among
// that slot's rows while the warps of other slots wait.
extern "C" __global__ void attention_prefill(const float* q, const float* k_cache, const float* v_cache,
                                             const int* slots, const int* positions, float* out, int rows,
                                             int num_heads, int num_kv_heads, int head_dim, int max_positions,
                                             float scale) {
  // float4 so that the tiles are 16-byte aligned for the vector loads that fill them.
  __shared__ float4 tile_keys[PREFILL_KEYS][MAX_HEAD_DIM / 4];
  __shared__ float4 tile_values[PREFILL_KEYS][MAX_HEAD_DIM / 4];
  __shared__ int row_slot[PREFILL_ROWS];
  __shared__ int row_pending[PREFILL_ROWS];  // positions the row attends to (P + 1); 0 once served, or no row

  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * PREFILL_ROWS + warp;
  const int head = blockIdx.y;
  const int dims = head_dim / 32;
  const int kv_dim = num_kv_heads * head_dim;
  const unsigned long long head_offset = (unsigned long long)(head / (num_heads / num_kv_heads)) * head_dim;
  const bool has_row = row < rows;

  float q_part[MAX_DIMS_PER_LANE];
  float o_part[MAX_DIMS_PER_LANE];
  if (has_row) {
    load_query(q, row, head, num_heads, head_dim, dims, lane, q_part);
  }
#pragma unroll
  for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
    o_part[d] = 0.0f;
  }
  float m = NEGATIVE_INFINITY;
  float l = 0.0f;
  if (lane == 0) {
    row_slot[warp] = has_row ? slots[row] : -1;
    row_pending[warp] = has_row ? positions[row] + 1 : 0;
  }
  __syncthreads();

  for (;;) {
    // Every thread finds the same next slot (the first pending row's) and how far its pending rows reach.
    int slot = -1;
    int length = 0;
    for (int w = 0; w < PREFILL_ROWS; ++w) {
      if (row_pending[w] > 0 && slot < 0) {
        slot = row_slot[w];
      }
      if (row_pending[w] > 0 && row_slot[w] == slot) {
        length = max(length, row_pending[w]);
      }
    }
    if (slot < 0) {
      break;
    }
    const int mine = row_pending[warp] > 0 && row_slot[warp] == slot ? row_pending[warp] : 0;
    const unsigned long long slot_base = (unsigned long long)slot * max_positions;
    for (int first = 0; first < length; first += PREFILL_KEYS) {
      const int count = min(PREFILL_KEYS, length - first);
      __syncthreads();  // every warp is done with the previous tile (and, the first time, read row_pending)
      const int vectors = head_dim / 4;  // head_dim and kv_dim are multiples of 32, so rows are 16-byte aligned
      for (int e = threadIdx.x; e < count * vectors; e += blockDim.x) {
        const int j = e / vectors;
        const int d = e - j * vectors;
        const unsigned long long at = (slot_base + first + j) * kv_dim + head_offset;
        tile_keys[j][d] = reinterpret_cast<const float4*>(k_cache + at)[d];
        tile_values[j][d] = reinterpret_cast<const float4*>(v_cache + at)[d];
      }
      __syncthreads();
      const int end = min(count, mine - first);  // warp-uniform, so the shuffles see the whole warp
      for (int j = 0; j < end; ++j) {
        attend_key(q_part, reinterpret_cast<const float*>(tile_keys[j]),
                   reinterpret_cast<const float*>(tile_values[j]), dims, lane, scale, m, l, o_part);
      }
    }
    __syncthreads();  // every thread has read row_pending for this slot
    if (mine > 0 && lane == 0) {
      row_pending[warp] = 0;
    }
    __syncthreads();
  }

  if (has_row) {
    float* out_head = out + (unsigned long long)row * num_heads * head_dim + (unsigned long long)head * head_dim;
#pragma unroll
    for (int d = 0; d < MAX_DIMS_PER_LANE; ++d) {
      if (d < dims) {
        out_head[lane + 32 * d] = o_part[d] / l;
      }
    }
  }
}
