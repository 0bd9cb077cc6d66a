// A CPU emulation of the few CUDA features cuda-kernels/*.cu use, so g++ compiles those files unchanged and the
// tests can execute them without a GPU (kernel_driver.cpp launches them; the tests send the typed launchers'
// launches there through dev.amalgam.cuda.EmulatedGpu).
//
// What is emulated: one block at a time, each of its threads a std::thread with its own threadIdx/blockIdx;
// atomicAdd and atomicOr on 32-bit unsigned integers (really atomic: a block's threads run at once);
// __syncthreads as a std::barrier over the block; warp shuffles as a barrier over the warp around a shared
// slot array; __shared__ variables as statics (not cleared between blocks); the bit-cast and explicitly
// rounded intrinsics, exactly (compile with -ffp-contract=off so nothing is fused into an FMA).
//
// What is NOT: the GPU memory model (no ordering beyond the barriers, no caches), concurrency between blocks
// (a kernel that needs blocks to run together hangs, one whose blocks race passes), divergent warps (a shuffle
// must be reached by the whole warp, as the kernels here do), fast-math intrinsics and device libm
// (expf, sinf, ... are glibc's, and the GPU build may contract a*b+c into an FMA that this one rounds twice).
// So a pass here means the kernel's indexing and arithmetic are right, not that it is right on a GPU.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
struct alignas(16) float4 {
  float x, y, z, w;
};

inline thread_local dim3 threadIdx;
inline thread_local dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

// Set by the launcher for the block that runs: one barrier for the block, one per warp, and a slot per thread
// for the value a shuffle exchanges.
namespace emu {
inline std::barrier<>* block_barrier;
inline std::barrier<>* warp_barriers[32];
inline uint64_t shuffle_slots[1024];

// Every lane publishes v, the warp meets, each reads lane src's value, and the warp meets again before the
// slots can be reused.
template <class T>
T shuffle(T v, unsigned src_lane) {
  static_assert(sizeof(T) <= sizeof(uint64_t));
  const unsigned warp = threadIdx.x / 32;
  std::memcpy(&shuffle_slots[threadIdx.x], &v, sizeof(T));
  warp_barriers[warp]->arrive_and_wait();
  T result;
  std::memcpy(&result, &shuffle_slots[warp * 32 + src_lane], sizeof(T));
  warp_barriers[warp]->arrive_and_wait();
  return result;
}
}  // namespace emu

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }

template <class T>
T __shfl_xor_sync(unsigned, T v, int mask) {
  return emu::shuffle(v, (threadIdx.x % 32) ^ mask);
}

template <class T>
T __shfl_up_sync(unsigned, T v, int delta) {
  const unsigned lane = threadIdx.x % 32;
  return emu::shuffle(v, lane >= (unsigned)delta ? lane - delta : lane);  // lanes below delta keep their own
}

template <class To, class From>
To bit_cast_(From f) {
  static_assert(sizeof(To) == sizeof(From));
  To t;
  std::memcpy(&t, &f, sizeof(To));
  return t;
}
inline float __uint_as_float(unsigned u) { return bit_cast_<float>(u); }
inline float __int_as_float(int i) { return bit_cast_<float>(i); }
inline unsigned __float_as_uint(float f) { return bit_cast_<unsigned>(f); }
inline long long __double_as_longlong(double d) { return bit_cast_<long long>(d); }
inline double __longlong_as_double(long long l) { return bit_cast_<double>(l); }

// IEEE single operations, rounded to nearest even: exactly what the host FPU does without contraction.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }

inline unsigned atomicAdd(unsigned* address, unsigned value) {
  return std::atomic_ref<unsigned>(*address).fetch_add(value);
}
inline unsigned atomicOr(unsigned* address, unsigned value) {
  return std::atomic_ref<unsigned>(*address).fetch_or(value);
}

using std::exp;
using std::fmax;
using std::fmaxf;
using std::max;
using std::min;
