// Single-threaded greedy rotated NMS: IoUs are only computed against boxes that are still alive.
#include "nms_rotated.h"

namespace alpi {

template <class Box>
int64_t nms_rotated(Cpu, const typename Box::Scalar* boxes, const typename Box::Scalar* scores, int64_t n,
                    typename Box::Scalar threshold, int64_t max_keep, int64_t* keep) {
  const std::vector<int64_t> order = descending_score_order(scores, n);
  const std::vector<Box> sorted = sorted_boxes<Box>(boxes, order);
  std::vector<bool> suppressed(static_cast<size_t>(n), false);
  int64_t kept = 0;
  for (int64_t k = 0; k < n && kept < max_keep; ++k) {
    if (suppressed[k]) {
      continue;
    }
    keep[kept++] = order[k];
    for (int64_t j = k + 1; j < n; ++j) {
      if (!suppressed[j] && box_iou(sorted[k], sorted[j]) > threshold) {
        suppressed[j] = true;
      }
    }
  }
  return kept;
}

#define ALPI_INSTANTIATE_NMS_CPU(Box)                                                                        \
  template int64_t nms_rotated<Box>(Cpu, const Box::Scalar*, const Box::Scalar*, int64_t, Box::Scalar, int64_t, \
                                    int64_t*);

ALPI_INSTANTIATE_NMS_CPU(BevBox<float>)
ALPI_INSTANTIATE_NMS_CPU(BevBox<double>)
ALPI_INSTANTIATE_NMS_CPU(KittiBox<float>)
ALPI_INSTANTIATE_NMS_CPU(KittiBox<double>)

}  // namespace alpi
