// Single-threaded CPU rotated IoU: boxes are prepared once, then every pair goes through the shared geometry core.
#include "box_iou_rotated.h"

namespace alpi {

template <class Box>
void box_iou_matrix(Cpu, const typename Box::Scalar* a, int64_t n, const typename Box::Scalar* b, int64_t m,
                    typename Box::Scalar* out) {
  const std::vector<Box> boxes_a = boxes_from_rows<Box>(a, n);
  const std::vector<Box> boxes_b = boxes_from_rows<Box>(b, m);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      out[i * m + j] = box_iou(boxes_a[i], boxes_b[j]);
    }
  }
}

template <class Box>
void box_iou_pairs(Cpu, const typename Box::Scalar* a, const typename Box::Scalar* b, int64_t n,
                   typename Box::Scalar* out) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = box_iou(Box::from_row(a + i * Box::kColumns), Box::from_row(b + i * Box::kColumns));
  }
}

#define ALPI_INSTANTIATE_BOX_IOU_CPU(Box)                                                                   \
  template void box_iou_matrix<Box>(Cpu, const Box::Scalar*, int64_t, const Box::Scalar*, int64_t,          \
                                    Box::Scalar*);                                                          \
  template void box_iou_pairs<Box>(Cpu, const Box::Scalar*, const Box::Scalar*, int64_t, Box::Scalar*);

ALPI_INSTANTIATE_BOX_IOU_CPU(BevBox<float>)
ALPI_INSTANTIATE_BOX_IOU_CPU(BevBox<double>)
ALPI_INSTANTIATE_BOX_IOU_CPU(KittiBox<float>)
ALPI_INSTANTIATE_BOX_IOU_CPU(KittiBox<double>)

}  // namespace alpi
