// Point-in-box test shared by the CPU implementation and the CUDA kernel; same arithmetic as
// kitti.geometry.points_in_boxes_mask (faces inclusive), rect camera frame.
#pragma once

#include <cstdint>

#include "../device.h"

namespace alpi {

// A KITTI bottom-centre box (x, y_bottom, z, h, w, l, ry) prepared for point tests.
template <typename T>
struct BoxFrame {
  static constexpr int kColumns = 7;

  T x, z;            // ground centre
  T c, s;            // cos(ry), sin(ry)
  T half_l, half_w;  // half extents along / across the heading
  T top, bottom;     // y span [y_bottom - h, y_bottom] (y points down)

  HOST_DEVICE static BoxFrame from_row(const T* row) {
    return {row[0], row[2], cosine(row[6]), sine(row[6]), row[5] / 2, row[4] / 2, row[1] - row[3], row[1]};
  }

  HOST_DEVICE bool contains(T px, T py, T pz) const {
    const T dx = px - x;
    const T dz = pz - z;
    const T along = c * dx - s * dz;   // box-frame x (length axis)
    const T across = s * dx + c * dz;  // box-frame z (width axis)
    return along <= half_l && -along <= half_l && across <= half_w && -across <= half_w && py <= bottom &&
           py >= top;
  }
};

// Index of the first (lowest-index) box containing the point, or -1.
template <typename T>
HOST_DEVICE inline int64_t first_containing_box(const BoxFrame<T>* boxes, int64_t count, T px, T py, T pz) {
  for (int64_t j = 0; j < count; ++j) {
    if (boxes[j].contains(px, py, pz)) {
      return j;
    }
  }
  return -1;
}

}  // namespace alpi
