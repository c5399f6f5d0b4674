// Greedy rotated non-maximum suppression for Box = BevBox<T> or KittiBox<T> (see box_iou_rotated_utils.h).
//
// Boxes are visited by descending score (ties: lower index first); a box is suppressed when its IoU with an
// already kept box is strictly greater than `threshold`. Writes at most `max_keep` indices (into the input arrays)
// to `keep`, in descending score order, and returns how many were written. Host pointers, C-contiguous.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../box_iou_rotated/box_iou_rotated.h"
#include "../device.h"

namespace alpi {

template <class Box>
int64_t nms_rotated(Cpu, const typename Box::Scalar* boxes, const typename Box::Scalar* scores, int64_t n,
                    typename Box::Scalar threshold, int64_t max_keep, int64_t* keep);
template <class Box>
int64_t nms_rotated(Cuda, const typename Box::Scalar* boxes, const typename Box::Scalar* scores, int64_t n,
                    typename Box::Scalar threshold, int64_t max_keep, int64_t* keep);

// Indices sorted by descending score, ties broken by the lower index.
template <typename T>
std::vector<int64_t> descending_score_order(const T* scores, int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [scores](int64_t i, int64_t j) { return scores[i] > scores[j]; });
  return order;
}

// Boxes prepared from the rows listed in `order`, in that order.
template <class Box>
std::vector<Box> sorted_boxes(const typename Box::Scalar* rows, const std::vector<int64_t>& order) {
  std::vector<Box> boxes(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    boxes[k] = Box::from_row(rows + order[k] * Box::kColumns);
  }
  return boxes;
}

}  // namespace alpi
