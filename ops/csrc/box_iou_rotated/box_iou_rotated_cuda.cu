// CUDA rotated IoU: boxes are prepared on the host (the same BevBox/KittiBox values the CPU path uses), uploaded,
// and one thread computes one pair with the shared geometry core.
#include "../cuda_utils.h"
#include "box_iou_rotated.h"

namespace alpi {

constexpr int kTile = 16;  // the IoU matrix is covered by kTile x kTile thread blocks
constexpr int kPairThreads = 256;

template <class Box>
__global__ void box_iou_matrix_kernel(const Box* a, int64_t n, const Box* b, int64_t m,
                                      typename Box::Scalar* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.y) * kTile + threadIdx.y;
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kTile + threadIdx.x;
  if (i < n && j < m) {
    out[i * m + j] = box_iou(a[i], b[j]);
  }
}

template <class Box>
__global__ void box_iou_pairs_kernel(const Box* a, const Box* b, int64_t n, typename Box::Scalar* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    out[i] = box_iou(a[i], b[i]);
  }
}

template <class Box>
void box_iou_matrix(Cuda, const typename Box::Scalar* a, int64_t n, const typename Box::Scalar* b, int64_t m,
                    typename Box::Scalar* out) {
  if (n == 0 || m == 0) {
    return;
  }
  if (blocks_for(n, kTile) > 65535u) {
    throw std::invalid_argument("box_iou_matrix (CUDA): at most 1048560 boxes in the first set");
  }
  const std::vector<Box> host_a = boxes_from_rows<Box>(a, n);
  const std::vector<Box> host_b = boxes_from_rows<Box>(b, m);
  const DeviceBuffer<Box> device_a(host_a.data(), host_a.size());
  const DeviceBuffer<Box> device_b(host_b.data(), host_b.size());
  DeviceBuffer<typename Box::Scalar> device_out(static_cast<size_t>(n * m));
  const dim3 blocks(blocks_for(m, kTile), blocks_for(n, kTile));
  const dim3 threads(kTile, kTile);
  box_iou_matrix_kernel<Box><<<blocks, threads>>>(device_a.data(), n, device_b.data(), m, device_out.data());
  check_kernel("box_iou_matrix_kernel");
  device_out.copy_to_host(out);
}

template <class Box>
void box_iou_pairs(Cuda, const typename Box::Scalar* a, const typename Box::Scalar* b, int64_t n,
                   typename Box::Scalar* out) {
  if (n == 0) {
    return;
  }
  const std::vector<Box> host_a = boxes_from_rows<Box>(a, n);
  const std::vector<Box> host_b = boxes_from_rows<Box>(b, n);
  const DeviceBuffer<Box> device_a(host_a.data(), host_a.size());
  const DeviceBuffer<Box> device_b(host_b.data(), host_b.size());
  DeviceBuffer<typename Box::Scalar> device_out(static_cast<size_t>(n));
  box_iou_pairs_kernel<Box><<<blocks_for(n, kPairThreads), kPairThreads>>>(device_a.data(), device_b.data(), n,
                                                                          device_out.data());
  check_kernel("box_iou_pairs_kernel");
  device_out.copy_to_host(out);
}

#define ALPI_INSTANTIATE_BOX_IOU_CUDA(Box)                                                                  \
  template void box_iou_matrix<Box>(Cuda, const Box::Scalar*, int64_t, const Box::Scalar*, int64_t,         \
                                    Box::Scalar*);                                                          \
  template void box_iou_pairs<Box>(Cuda, const Box::Scalar*, const Box::Scalar*, int64_t, Box::Scalar*);

ALPI_INSTANTIATE_BOX_IOU_CUDA(BevBox<float>)
ALPI_INSTANTIATE_BOX_IOU_CUDA(BevBox<double>)
ALPI_INSTANTIATE_BOX_IOU_CUDA(KittiBox<float>)
ALPI_INSTANTIATE_BOX_IOU_CUDA(KittiBox<double>)

}  // namespace alpi
