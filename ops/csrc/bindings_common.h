// pybind11 layer shared by the CPU module (_ops_cpu) and the CUDA module (_ops_cuda): numpy arrays in and out,
// shape checks, the GIL released while computing. Each op is registered for float32 and float64 (overloads picked
// by dtype without conversion; the Python wrapper ops/__init__.py passes C-contiguous arrays of one dtype).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <vector>

#include "box_iou_rotated/box_iou_rotated.h"
#include "nms_rotated/nms_rotated.h"
#include "points_in_boxes/points_in_boxes.h"

namespace alpi {

namespace py = pybind11;

template <typename T>
using CArray = py::array_t<T, py::array::c_style>;

// Row count of a (rows, columns) array; with min_columns, any column count >= min_columns is accepted.
template <typename T>
int64_t checked_rows(const CArray<T>& array, int64_t columns, const char* name, bool min_columns = false) {
  const bool columns_ok = array.ndim() == 2 && (min_columns ? array.shape(1) >= columns : array.shape(1) == columns);
  if (!columns_ok) {
    throw py::value_error(std::string(name) + ": expected shape (N, " + std::to_string(columns) +
                          (min_columns ? "+)" : ")"));
  }
  return array.shape(0);
}

template <class Device, class Box>
CArray<typename Box::Scalar> iou_matrix(const CArray<typename Box::Scalar>& a, const CArray<typename Box::Scalar>& b) {
  const int64_t n = checked_rows(a, Box::kColumns, "a");
  const int64_t m = checked_rows(b, Box::kColumns, "b");
  CArray<typename Box::Scalar> out({n, m});
  typename Box::Scalar* out_data = out.mutable_data();
  {
    py::gil_scoped_release release;
    box_iou_matrix<Box>(Device{}, a.data(), n, b.data(), m, out_data);
  }
  return out;
}

template <class Device, class Box>
CArray<typename Box::Scalar> iou_pairs(const CArray<typename Box::Scalar>& a, const CArray<typename Box::Scalar>& b) {
  const int64_t n = checked_rows(a, Box::kColumns, "a");
  if (checked_rows(b, Box::kColumns, "b") != n) {
    throw py::value_error("a and b must have the same number of boxes");
  }
  CArray<typename Box::Scalar> out(n);
  typename Box::Scalar* out_data = out.mutable_data();
  {
    py::gil_scoped_release release;
    box_iou_pairs<Box>(Device{}, a.data(), b.data(), n, out_data);
  }
  return out;
}

template <class Device, class Box>
py::array_t<int64_t> nms(const CArray<typename Box::Scalar>& boxes, const CArray<typename Box::Scalar>& scores,
                         typename Box::Scalar threshold, int64_t max_keep) {
  const int64_t n = checked_rows(boxes, Box::kColumns, "boxes");
  if (scores.ndim() != 1 || scores.shape(0) != n) {
    throw py::value_error("scores: expected shape (N,) matching boxes");
  }
  std::vector<int64_t> keep(static_cast<size_t>(std::max<int64_t>(std::min(n, max_keep), 0)));
  int64_t kept = 0;
  {
    py::gil_scoped_release release;
    kept = nms_rotated<Box>(Device{}, boxes.data(), scores.data(), n, threshold, max_keep, keep.data());
  }
  return py::array_t<int64_t>(kept, keep.data());
}

template <class Device, typename T>
py::array_t<int64_t> points_in_boxes_indices(const CArray<T>& points, const CArray<T>& boxes) {
  const int64_t n = checked_rows(points, 3, "points", /*min_columns=*/true);
  const int64_t m = checked_rows(boxes, BoxFrame<T>::kColumns, "boxes");
  py::array_t<int64_t> out(n);
  int64_t* out_data = out.mutable_data();
  {
    py::gil_scoped_release release;
    points_in_boxes<T>(Device{}, points.data(), n, points.shape(1), boxes.data(), m, out_data);
  }
  return out;
}

template <class Device, typename T>
void define_typed_ops(py::module_& module) {
  using namespace pybind11::literals;
  module.def("iou_bev", &iou_matrix<Device, BevBox<T>>, "a"_a, "b"_a, "(N, M) rotated BEV IoU of (x, z, l, w, ry)");
  module.def("iou_3d", &iou_matrix<Device, KittiBox<T>>, "a"_a, "b"_a,
             "(N, M) 3D IoU of KITTI boxes (x, y_bottom, z, h, w, l, ry)");
  module.def("iou_bev_pairs", &iou_pairs<Device, BevBox<T>>, "a"_a, "b"_a, "(N,) BEV IoU of matched pairs");
  module.def("iou_3d_pairs", &iou_pairs<Device, KittiBox<T>>, "a"_a, "b"_a, "(N,) 3D IoU of matched pairs");
  module.def("nms_bev", &nms<Device, BevBox<T>>, "boxes"_a, "scores"_a, "threshold"_a, "max_keep"_a,
             "greedy BEV NMS (suppress IoU > threshold), kept indices by descending score");
  module.def("nms_3d", &nms<Device, KittiBox<T>>, "boxes"_a, "scores"_a, "threshold"_a, "max_keep"_a,
             "greedy 3D NMS (suppress IoU > threshold), kept indices by descending score");
  module.def("points_in_boxes", &points_in_boxes_indices<Device, T>, "points"_a, "boxes"_a,
             "(N,) index of the lowest-index box containing each point, or -1");
}

template <class Device>
void define_ops(py::module_& module) {
  define_typed_ops<Device, float>(module);
  define_typed_ops<Device, double>(module);
}

}  // namespace alpi
