// Host-side CUDA helpers for the kernels' launchers: error checks and an owning device buffer.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace alpi {

inline void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

// Number of visible CUDA devices; 0 when there is no driver or no GPU.
inline int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls report their own status
    return 0;
  }
  return count;
}

// A device array of `size` elements of T, freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t size) : size_(size) {
    if (size_ > 0) {
      check_cuda(cudaMalloc(&data_, size_ * sizeof(T)), "cudaMalloc");
    }
  }
  DeviceBuffer(const T* host, size_t size) : DeviceBuffer(size) {
    if (size_ > 0) {
      check_cuda(cudaMemcpy(data_, host, size_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
    }
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(data_); }

  T* data() const { return data_; }

  void copy_to_host(T* host) const {
    if (size_ > 0) {
      check_cuda(cudaMemcpy(host, data_, size_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    }
  }

 private:
  T* data_ = nullptr;
  size_t size_;
};

// Checks the launch of the last kernel and waits for it.
inline void check_kernel(const char* kernel) {
  check_cuda(cudaGetLastError(), kernel);
  check_cuda(cudaDeviceSynchronize(), kernel);
}

inline unsigned int blocks_for(int64_t items, int threads) {
  return static_cast<unsigned int>((items + threads - 1) / threads);
}

}  // namespace alpi
