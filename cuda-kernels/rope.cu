// Rotary position embedding, rotate-half (NeoX) style as Hugging Face Qwen2/Llama:
//   angle = float(position) * inv_freq[i]; x'[i] = x[i] cos - x[i+h] sin; x'[i+h] = x[i+h] cos + x[i] sin.
// Positions come from device memory so a decode step needs no host argument that changes per token.
//
//   rope           rotates one tensor in place;
//   rope_kv_store  rotates q and k in place and stores k and v in the KV cache, in one launch where rope,
//                  rope and attention.cu's kv_store take three, with the same arithmetic.
//
// Parameter lists checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

// Rotates the pair (head[i], head[i + half]) by position * inv_freq[i].
__device__ __forceinline__ void rotate_pair(float* head, int i, int half, int position, const float* inv_freq) {
  const float angle = __fmul_rn((float)position, inv_freq[i]);
  // Full-precision sinf/cosf (no fast math): angles reach 1e5 radians at long contexts.
  const float c = cosf(angle);
  const float s = sinf(angle);
  const float x1 = head[i];
  const float x2 = head[i + half];
  head[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
  head[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
}

// x [rows, heads * head_dim] float32; positions int [rows]; inv_freq float32 [head_dim / 2].
// One thread per (row, head, i < head_dim / 2) pair, grid-strided.
extern "C" __global__ void rope(float* x, const int* positions, const float* inv_freq, int rows, int heads,
                                int head_dim) {
  const int half = head_dim / 2;
  const unsigned long long pairs = (unsigned long long)rows * heads * half;
  const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
  for (unsigned long long p = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; p < pairs; p += stride) {
    const unsigned long long row_head = p / half;
    const int i = (int)(p - row_head * half);
    rotate_pair(x + row_head * head_dim, i, half, positions[row_head / heads], inv_freq);
  }
}

// q [rows, num_heads * head_dim] and k, v [rows, num_kv_heads * head_dim] float32; k_cache and v_cache
// [slots * max_positions, num_kv_heads * head_dim]: row t's key and value go to row slot*max_positions + P.
// q and k are rotated in place; v is only read. One thread per (row, q or k head, i < head_dim / 2) pair,
// grid-strided; a k pair's thread also stores that pair of k (rotated) and of v in the cache.
extern "C" __global__ void rope_kv_store(float* q, float* k, const float* v, float* k_cache, float* v_cache,
                                         const int* slots, const int* positions, const float* inv_freq, int rows,
                                         int num_heads, int num_kv_heads, int head_dim, int max_positions) {
  const int half = head_dim / 2;
  const int heads = num_heads + num_kv_heads;
  const int kv_dim = num_kv_heads * head_dim;
  const unsigned long long pairs = (unsigned long long)rows * heads * half;
  const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
  for (unsigned long long p = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; p < pairs; p += stride) {
    const unsigned long long row_head = p / half;
    const int i = (int)(p - row_head * half);
    const unsigned long long row = row_head / heads;
    const int head = (int)(row_head - row * heads);
    const int position = positions[row];
    if (head < num_heads) {
      rotate_pair(q + (row * num_heads + head) * head_dim, i, half, position, inv_freq);
    } else {
      const unsigned long long offset = row * kv_dim + (unsigned long long)(head - num_heads) * head_dim;
      rotate_pair(k + offset, i, half, position, inv_freq);
      const unsigned long long target =
          ((unsigned long long)slots[row] * max_positions + position) * kv_dim + (offset - row * kv_dim);
      k_cache[target + i] = k[offset + i];
      k_cache[target + i + half] = k[offset + i + half];
      v_cache[target + i] = v[offset + i];
      v_cache[target + i + half] = v[offset + i + half];
    }
  }
}
