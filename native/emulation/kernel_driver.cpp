// Runs one kernel of a cuda-kernels/*.cu file on the CPU, as cuLaunchKernel would run it on a GPU.
//
// Built once per .cu file by native/emulation/build.sh (the Maven build runs it before the tests):
//   g++ -std=c++20 -O1 -ffp-contract=off -pthread -include cuda_shim.h
//       -DKERNEL_SOURCE='"/path/to/norm.cu"' -DKERNELS='X(rms_norm) X(add_rms_norm)' kernel_driver.cpp
// Usage: kernel_driver LAUNCH_FILE OUTPUT_FILE. The launch file (little-endian) holds
//   name: int length, bytes | grid x, y, z, block x: 4 ints
//   buffers: int count; each: long size, bytes
//   parameters: int count; each: int size, bytes (the value cuLaunchKernel would copy, e.g. a 160-byte struct)
//   relocations: int count; each: int parameter, int byte offset, int buffer: adds that buffer's address to
//     the 8 bytes at that offset of that parameter (so a pointer parameter holds its offset into the buffer)
// and the output file gets every buffer's bytes after the run, back to back. Each buffer sits between guard
// bytes; a write to them fails the run, so a test sees writes past either end of any buffer.
#include KERNEL_SOURCE

#include <functional>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

constexpr size_t kAlign = 256;  // cudaMalloc's alignment, which the kernels' vector paths rely on
constexpr size_t kGuard = 256;
constexpr unsigned char kGuardByte = 0xA5;

using Parameters = std::vector<std::vector<char>>;

// Copies each parameter's bytes into the type the kernel declares, as the GPU reads its argument slots.
template <class... Args, size_t... I>
void call(void (*kernel)(Args...), const Parameters& params, std::index_sequence<I...>) {
  auto read = [&](auto tag, size_t i) {
    typename decltype(tag)::type value;
    std::memcpy((void*)&value, params[i].data(), sizeof value);
    return value;
  };
  kernel(read(std::type_identity<std::remove_cv_t<Args>>{}, I)...);
}

// Checks the parameter list against the kernel's here, before any thread runs it.
template <class... Args>
std::function<void()> bind_parameters(void (*kernel)(Args...), const Parameters& params) {
  const size_t sizes[] = {sizeof(Args)...};
  if (params.size() != sizeof...(Args)) {
    throw std::runtime_error("the kernel takes " + std::to_string(sizeof...(Args)) + " parameters, not " +
                             std::to_string(params.size()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].size() != sizes[i]) {
      throw std::runtime_error("parameter " + std::to_string(i) + " has " + std::to_string(params[i].size()) +
                               " bytes, the kernel takes " + std::to_string(sizes[i]));
    }
  }
  return [kernel, &params] { call(kernel, params, std::index_sequence_for<Args...>{}); };
}

std::function<void()> find_kernel(const std::string& name, const Parameters& params) {
#define X(kernel) \
  if (name == #kernel) return bind_parameters(kernel, params);
  KERNELS
#undef X
  throw std::runtime_error("no kernel " + name + " in " KERNEL_SOURCE);
}

// Blocks one after another; within a block every thread at once, so the barriers work.
void launch(dim3 grid, unsigned threads, const std::function<void()>& body) {
  if (threads == 0 || threads > 1024) throw std::runtime_error("bad block size");
  gridDim = grid;
  blockDim = {threads, 1, 1};
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) {
        std::barrier<> block(threads);
        std::vector<std::unique_ptr<std::barrier<>>> warps;
        for (unsigned first = 0; first < threads; first += 32) {
          warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - first)));
          emu::warp_barriers[first / 32] = warps.back().get();
        }
        emu::block_barrier = &block;
        std::vector<std::jthread> team;  // joined, before the barriers go, at the end of the block
        for (unsigned t = 0; t < threads; ++t) {
          team.emplace_back([&, t] {
            threadIdx = {t, 0, 0};
            blockIdx = {x, y, z};
            body();
          });
        }
      }
    }
  }
}

template <class T>
T get(std::istream& in) {
  T value;
  if (!in.read(reinterpret_cast<char*>(&value), sizeof(T))) throw std::runtime_error("launch file too short");
  return value;
}

std::vector<char> get_bytes(std::istream& in, size_t size) {
  std::vector<char> bytes(size);
  if (!in.read(bytes.data(), size)) throw std::runtime_error("launch file too short");
  return bytes;
}

// size bytes at a kAlign-aligned address, between two guards of kGuard bytes.
struct Buffer {
  explicit Buffer(size_t size) : size(size), storage(new unsigned char[kAlign + 2 * kGuard + size]) {
    std::memset(storage.get(), kGuardByte, kAlign + 2 * kGuard + size);
    const size_t skip = (kAlign - (uintptr_t)(storage.get() + kGuard) % kAlign) % kAlign;
    data = storage.get() + skip + kGuard;
  }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuard; ++i) {
      if (data[-1 - (ptrdiff_t)i] != kGuardByte || data[size + i] != kGuardByte) return false;
    }
    return true;
  }
  size_t size;
  std::unique_ptr<unsigned char[]> storage;
  unsigned char* data;
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) throw std::runtime_error("usage: kernel_driver LAUNCH_FILE OUTPUT_FILE");
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> name_bytes = get_bytes(in, get<int>(in));
  const std::string name(name_bytes.begin(), name_bytes.end());
  dim3 grid;
  grid.x = get<int>(in);
  grid.y = get<int>(in);
  grid.z = get<int>(in);
  const unsigned threads = get<int>(in);

  std::vector<Buffer> buffers;
  for (int b = get<int>(in); b > 0; --b) {
    Buffer& buffer = buffers.emplace_back(get<long long>(in));
    const std::vector<char> bytes = get_bytes(in, buffer.size);
    std::memcpy(buffer.data, bytes.data(), buffer.size);
  }
  Parameters params(get<int>(in));
  for (auto& p : params) p = get_bytes(in, get<int>(in));
  for (int r = get<int>(in); r > 0; --r) {
    std::vector<char>& param = params.at(get<int>(in));
    const int offset = get<int>(in);
    const Buffer& buffer = buffers.at(get<int>(in));
    if (offset < 0 || offset + sizeof(uintptr_t) > param.size()) throw std::runtime_error("bad relocation");
    uintptr_t address;
    std::memcpy(&address, param.data() + offset, sizeof address);
    address += (uintptr_t)buffer.data;
    std::memcpy(param.data() + offset, &address, sizeof address);
  }

  launch(grid, threads, find_kernel(name, params));

  std::ofstream out(argv[2], std::ios::binary);
  for (size_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].guards_intact()) throw std::runtime_error("wrote outside buffer " + std::to_string(b));
    out.write(reinterpret_cast<const char*>(buffers[b].data), buffers[b].size);
  }
  return out ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "kernel_driver: " << e.what() << "\n";
  return 1;
}
