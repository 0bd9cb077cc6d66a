// Rotary position embedding in place, rotate-half (NeoX) style as Hugging Face Qwen2/Llama:
//   angle = float(position) * inv_freq[i]; x'[i] = x[i] cos - x[i+h] sin; x'[i+h] = x[i+h] cos + x[i] sin.
// Positions come from device memory so a decode step needs no host argument that changes per token.
//
// Parameter list checked against dev.amalgam.backend.cuda.GenerationKernels by a unit test.

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
    const unsigned long long row = row_head / heads;
    const float angle = __fmul_rn((float)positions[row], inv_freq[i]);
    // Full-precision sinf/cosf (no fast math): angles reach 1e5 radians at long contexts.
    const float c = cosf(angle);
    const float s = sinf(angle);
    float* head = x + row_head * head_dim;
    const float x1 = head[i];
    const float x2 = head[i + half];
    head[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
    head[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
  }
}
