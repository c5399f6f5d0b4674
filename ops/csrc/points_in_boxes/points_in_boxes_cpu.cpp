// Single-threaded points-in-boxes: boxes are prepared once, then every point scans them in index order.
#include "points_in_boxes.h"

namespace alpi {

template <typename T>
void points_in_boxes(Cpu, const T* points, int64_t n, int64_t point_columns, const T* boxes, int64_t m,
                     int64_t* out) {
  const std::vector<BoxFrame<T>> frames = box_frames_from_rows(boxes, m);
  for (int64_t i = 0; i < n; ++i) {
    const T* p = points + i * point_columns;
    out[i] = first_containing_box(frames.data(), m, p[0], p[1], p[2]);
  }
}

template void points_in_boxes<float>(Cpu, const float*, int64_t, int64_t, const float*, int64_t, int64_t*);
template void points_in_boxes<double>(Cpu, const double*, int64_t, int64_t, const double*, int64_t, int64_t*);

}  // namespace alpi
