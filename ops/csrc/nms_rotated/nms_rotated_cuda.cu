// CUDA rotated NMS in the OpenPCDet style: a kernel fills, for the score-sorted boxes, a bit mask of which later
// boxes each box would suppress (64 columns per word); the greedy pass over that mask runs on the host.
// The mask takes n * ceil(n / 64) * 8 bytes of device and host memory (12.5 MB for 10,000 boxes).
#include "../cuda_utils.h"
#include "nms_rotated.h"

namespace alpi {

constexpr int kBitsPerWord = 64;

template <class Box>
__global__ void nms_mask_kernel(const Box* sorted, int64_t n, typename Box::Scalar threshold, int64_t words,
                                unsigned long long* mask) {
  const int64_t row_block = blockIdx.y;
  const int64_t column_block = blockIdx.x;
  if (column_block < row_block) {
    return;  // only later boxes can be suppressed
  }
  const int64_t column_start = column_block * kBitsPerWord;
  const int64_t columns = min(static_cast<int64_t>(kBitsPerWord), n - column_start);
  const int64_t i = row_block * kBitsPerWord + threadIdx.x;
  if (i >= n) {
    return;
  }
  unsigned long long bits = 0;
  for (int64_t k = (row_block == column_block) ? threadIdx.x + 1 : 0; k < columns; ++k) {
    if (box_iou(sorted[i], sorted[column_start + k]) > threshold) {
      bits |= 1ULL << k;
    }
  }
  mask[i * words + column_block] = bits;
}

template <class Box>
int64_t nms_rotated(Cuda, const typename Box::Scalar* boxes, const typename Box::Scalar* scores, int64_t n,
                    typename Box::Scalar threshold, int64_t max_keep, int64_t* keep) {
  if (n == 0 || max_keep <= 0) {
    return 0;
  }
  const int64_t words = (n + kBitsPerWord - 1) / kBitsPerWord;
  if (words > 65535) {
    throw std::invalid_argument("nms_rotated (CUDA): at most 4194240 boxes");
  }
  const std::vector<int64_t> order = descending_score_order(scores, n);
  const std::vector<Box> host_sorted = sorted_boxes<Box>(boxes, order);
  const DeviceBuffer<Box> device_sorted(host_sorted.data(), host_sorted.size());
  DeviceBuffer<unsigned long long> device_mask(static_cast<size_t>(n * words));
  const dim3 blocks(static_cast<unsigned int>(words), static_cast<unsigned int>(words));
  nms_mask_kernel<Box><<<blocks, kBitsPerWord>>>(device_sorted.data(), n, threshold, words, device_mask.data());
  check_kernel("nms_mask_kernel");
  std::vector<unsigned long long> mask(static_cast<size_t>(n * words));
  device_mask.copy_to_host(mask.data());

  std::vector<unsigned long long> removed(static_cast<size_t>(words), 0);
  int64_t kept = 0;
  for (int64_t i = 0; i < n && kept < max_keep; ++i) {
    if (removed[i / kBitsPerWord] & (1ULL << (i % kBitsPerWord))) {
      continue;
    }
    keep[kept++] = order[i];
    const unsigned long long* row = mask.data() + i * words;
    for (int64_t w = i / kBitsPerWord; w < words; ++w) {
      removed[w] |= row[w];
    }
  }
  return kept;
}

#define ALPI_INSTANTIATE_NMS_CUDA(Box)                                                                        \
  template int64_t nms_rotated<Box>(Cuda, const Box::Scalar*, const Box::Scalar*, int64_t, Box::Scalar, int64_t, \
                                    int64_t*);

ALPI_INSTANTIATE_NMS_CUDA(BevBox<float>)
ALPI_INSTANTIATE_NMS_CUDA(BevBox<double>)
ALPI_INSTANTIATE_NMS_CUDA(KittiBox<float>)
ALPI_INSTANTIATE_NMS_CUDA(KittiBox<double>)

}  // namespace alpi
