// Rotated IoU of box sets, for Box = BevBox<T> (rows (x, z, l, w, ry)) or KittiBox<T> (rows (x, y_bottom, z, h,
// w, l, ry)), T = float or double. All pointers are host pointers to C-contiguous row-major arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "../device.h"
#include "box_iou_rotated_utils.h"

namespace alpi {

// Boxes prepared once (corners, areas, circumcircles) from `count` rows of Box::kColumns values, on the host.
template <class Box>
std::vector<Box> boxes_from_rows(const typename Box::Scalar* rows, int64_t count) {
  std::vector<Box> boxes(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    boxes[i] = Box::from_row(rows + i * Box::kColumns);
  }
  return boxes;
}

// out[i * m + j] = IoU(a[i], b[j]) for a (n, Box::kColumns) and b (m, Box::kColumns).
template <class Box>
void box_iou_matrix(Cpu, const typename Box::Scalar* a, int64_t n, const typename Box::Scalar* b, int64_t m,
                    typename Box::Scalar* out);
template <class Box>
void box_iou_matrix(Cuda, const typename Box::Scalar* a, int64_t n, const typename Box::Scalar* b, int64_t m,
                    typename Box::Scalar* out);

// out[i] = IoU(a[i], b[i]) for n matched pairs.
template <class Box>
void box_iou_pairs(Cpu, const typename Box::Scalar* a, const typename Box::Scalar* b, int64_t n,
                   typename Box::Scalar* out);
template <class Box>
void box_iou_pairs(Cuda, const typename Box::Scalar* a, const typename Box::Scalar* b, int64_t n,
                   typename Box::Scalar* out);

}  // namespace alpi
