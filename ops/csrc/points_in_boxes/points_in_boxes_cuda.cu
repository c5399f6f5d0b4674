// CUDA points-in-boxes: box frames are prepared on the host (same values as the CPU path), one thread per point.
#include "../cuda_utils.h"
#include "points_in_boxes.h"

namespace alpi {

constexpr int kPointThreads = 256;

template <typename T>
__global__ void points_in_boxes_kernel(const T* points, int64_t n, int64_t point_columns, const BoxFrame<T>* boxes,
                                       int64_t m, int64_t* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    const T* p = points + i * point_columns;
    out[i] = first_containing_box(boxes, m, p[0], p[1], p[2]);
  }
}

template <typename T>
void points_in_boxes(Cuda, const T* points, int64_t n, int64_t point_columns, const T* boxes, int64_t m,
                     int64_t* out) {
  if (n == 0) {
    return;
  }
  const std::vector<BoxFrame<T>> frames = box_frames_from_rows(boxes, m);
  const DeviceBuffer<T> device_points(points, static_cast<size_t>(n * point_columns));
  const DeviceBuffer<BoxFrame<T>> device_frames(frames.data(), frames.size());
  DeviceBuffer<int64_t> device_out(static_cast<size_t>(n));
  points_in_boxes_kernel<T><<<blocks_for(n, kPointThreads), kPointThreads>>>(
      device_points.data(), n, point_columns, device_frames.data(), m, device_out.data());
  check_kernel("points_in_boxes_kernel");
  device_out.copy_to_host(out);
}

template void points_in_boxes<float>(Cuda, const float*, int64_t, int64_t, const float*, int64_t, int64_t*);
template void points_in_boxes<double>(Cuda, const double*, int64_t, int64_t, const double*, int64_t, int64_t*);

}  // namespace alpi
