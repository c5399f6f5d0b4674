// Per point, the index of the lowest-index KITTI box (x, y_bottom, z, h, w, l, ry) containing it (faces
// inclusive), or -1. points: (n, point_columns >= 3) rect frame (x, y, z first); host pointers, C-contiguous.
#pragma once

#include <cstdint>
#include <vector>

#include "../device.h"
#include "points_in_boxes_utils.h"

namespace alpi {

// Box frames prepared once from `count` rows (x, y_bottom, z, h, w, l, ry), on the host.
template <typename T>
std::vector<BoxFrame<T>> box_frames_from_rows(const T* rows, int64_t count) {
  std::vector<BoxFrame<T>> frames(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) {
    frames[j] = BoxFrame<T>::from_row(rows + j * BoxFrame<T>::kColumns);
  }
  return frames;
}

template <typename T>
void points_in_boxes(Cpu, const T* points, int64_t n, int64_t point_columns, const T* boxes, int64_t m,
                     int64_t* out);
template <typename T>
void points_in_boxes(Cuda, const T* points, int64_t n, int64_t point_columns, const T* boxes, int64_t m,
                     int64_t* out);

}  // namespace alpi
