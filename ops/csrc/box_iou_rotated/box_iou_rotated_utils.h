// Rotated-box geometry shared by the CPU implementation and the CUDA kernels (every function is HOST_DEVICE).
//
// Frame: KITTI rect camera, x right, y down, z forward; boxes live in the (x, z) ground plane plus a vertical
// span in y. A box with centre (x, z), length l, width w and heading ry has the corners
//     centre + (c * lx + s * lz, -s * lx + c * lz),   c = cos(ry), s = sin(ry),  lx = +-l/2, lz = +-w/2,
// i.e. the length axis points along (cos ry, -sin ry) in (x, z) (same formula as kitti/geometry.py).
//
// Intersection areas come from Sutherland-Hodgman clipping of box A by the four edges of box B, computed in a
// local frame centred on A (small coordinates, so float32 stays accurate far from the camera). The inside test is
// inclusive with a tolerance band, so shared vertices and collinear edges are kept instead of being cut into
// slivers: identical boxes reproduce A's corners in A's order and give an IoU of exactly 1. Clipping keeps the
// polygon order, so duplicate vertices only add zero-area fan triangles and need no removal.
#pragma once

#include "../device.h"

namespace alpi {

template <typename T>
struct MachineEpsilon;
template <>
struct MachineEpsilon<float> {
  static constexpr float value = 1.1920929e-7f;
};
template <>
struct MachineEpsilon<double> {
  static constexpr double value = 2.220446049250313e-16;
};

template <typename T>
struct Point {
  T x;
  T z;
};

template <typename T>
HOST_DEVICE inline Point<T> operator+(Point<T> a, Point<T> b) {
  return {a.x + b.x, a.z + b.z};
}

template <typename T>
HOST_DEVICE inline Point<T> operator-(Point<T> a, Point<T> b) {
  return {a.x - b.x, a.z - b.z};
}

template <typename T>
HOST_DEVICE inline Point<T> operator*(Point<T> a, T k) {
  return {a.x * k, a.z * k};
}

// z-component of the 2D cross product in (x, z): positive when b is counter-clockwise from a.
template <typename T>
HOST_DEVICE inline T cross(Point<T> a, Point<T> b) {
  return a.x * b.z - a.z * b.x;
}

// Signed area (counter-clockwise positive) of a polygon, as a fan around its first vertex.
template <typename T>
HOST_DEVICE inline T polygon_area(const Point<T>* vertices, int count) {
  T twice_area = 0;
  for (int i = 1; i + 1 < count; ++i) {
    twice_area += cross(vertices[i] - vertices[0], vertices[i + 1] - vertices[0]);
  }
  return twice_area / 2;
}

// A rotated rectangle in the ground plane. corners[] are offsets from the centre in counter-clockwise order;
// the edge corners[i] -> corners[i + 1] has length edge_length(i).
template <typename T>
struct BevBox {
  using Scalar = T;
  static constexpr int kColumns = 5;  // (x, z, l, w, ry)

  Point<T> centre;
  Point<T> corners[4];
  T length;
  T width;
  T area;    // m^2, exactly 0 for a box with l <= 0 or w <= 0
  T radius;  // circumcircle radius (m), for the cheap far-pair rejection

  HOST_DEVICE static BevBox from_rect(T x, T z, T length, T width, T ry) {
    BevBox box;
    box.centre = {x, z};
    box.length = length;
    box.width = width;
    const T c = cosine(ry);
    const T s = sine(ry);
    const T half_l = length / 2;
    const T half_w = width / 2;
    const T local_x[4] = {half_l, -half_l, -half_l, half_l};
    const T local_z[4] = {half_w, half_w, -half_w, -half_w};
    for (int i = 0; i < 4; ++i) {
      box.corners[i] = {c * local_x[i] + s * local_z[i], -s * local_x[i] + c * local_z[i]};
    }
    box.area = (length > 0 && width > 0) ? polygon_area(box.corners, 4) : T(0);
    box.radius = square_root(length * length + width * width) / 2;
    return box;
  }

  // A row (x, z, l, w, ry).
  HOST_DEVICE static BevBox from_row(const T* row) { return from_rect(row[0], row[1], row[2], row[3], row[4]); }

  HOST_DEVICE T edge_length(int i) const { return (i % 2 == 0) ? length : width; }
};

// A KITTI bottom-centre box (x, y_bottom, z, h, w, l, ry): its ground rectangle and its span y in [top, bottom].
template <typename T>
struct KittiBox {
  using Scalar = T;
  static constexpr int kColumns = 7;

  BevBox<T> bev;
  T top;     // y_bottom - h (y points down)
  T bottom;  // y_bottom
  T volume;  // bev.area * (bottom - top), m^3

  HOST_DEVICE static KittiBox from_row(const T* row) {
    KittiBox box;
    box.bev = BevBox<T>::from_rect(row[0], row[2], row[5], row[4], row[6]);
    box.bottom = row[1];
    box.top = row[1] - row[3];
    // The height is taken as bottom - top (not h) so that identical boxes overlap by exactly their own height.
    box.volume = box.bev.area * (box.bottom - box.top);
    return box;
  }
};

// Most vertices a clipped polygon can hold: a quadrilateral clipped by 4 lines has at most 8; the rest is headroom
// for tolerance-band crossings on near-degenerate input.
constexpr int kMaxClipVertices = 16;

// Keeps the part of polygon `in` on the inner (left, counter-clockwise) side of the directed edge p0 -> p1, with a
// tolerance band of `tolerance` metres counted as inside. Returns the vertex count written to `out`.
template <typename T>
HOST_DEVICE inline int clip_by_edge(const Point<T>* in, int count, Point<T> p0, Point<T> p1, T edge_length,
                                    T tolerance, Point<T>* out) {
  const Point<T> edge = p1 - p0;
  const T band = -tolerance * edge_length;  // cross() is the distance to the edge line times its length
  int written = 0;
  Point<T> previous = in[count - 1];
  T previous_side = cross(edge, previous - p0);
  for (int i = 0; i < count; ++i) {
    const Point<T> current = in[i];
    const T current_side = cross(edge, current - p0);
    const bool current_inside = current_side >= band;
    if (current_inside != (previous_side >= band) && written < kMaxClipVertices) {
      const T t = previous_side / (previous_side - current_side);
      out[written++] = previous + (current - previous) * t;
    }
    if (current_inside && written < kMaxClipVertices) {
      out[written++] = current;
    }
    previous = current;
    previous_side = current_side;
  }
  return written;
}

// Area (m^2) of the intersection of two ground rectangles.
template <typename T>
HOST_DEVICE inline T intersection_area(const BevBox<T>& a, const BevBox<T>& b) {
  const Point<T> offset = b.centre - a.centre;  // everything below is relative to a.centre
  const T distance_sq = offset.x * offset.x + offset.z * offset.z;
  const T reach = a.radius + b.radius;
  if (distance_sq > reach * reach) {
    return 0;
  }
  const T tolerance = 16 * MachineEpsilon<T>::value * reach;
  Point<T> buffer_a[kMaxClipVertices];
  Point<T> buffer_b[kMaxClipVertices];
  Point<T>* polygon = buffer_a;
  Point<T>* clipped = buffer_b;
  for (int i = 0; i < 4; ++i) {
    polygon[i] = a.corners[i];
  }
  int count = 4;
  for (int i = 0; i < 4; ++i) {
    count = clip_by_edge(polygon, count, offset + b.corners[i], offset + b.corners[(i + 1) % 4], b.edge_length(i),
                         tolerance, clipped);
    if (count < 3) {
      return 0;
    }
    Point<T>* swap = polygon;
    polygon = clipped;
    clipped = swap;
  }
  const T area = polygon_area(polygon, count);
  return area > 0 ? area : T(0);
}

// Intersection over union from an intersection and two sizes (areas or volumes); 0 when either size is 0.
template <typename T>
HOST_DEVICE inline T iou_from_intersection(T intersection, T size_a, T size_b) {
  if (!(size_a > 0 && size_b > 0 && intersection > 0)) {
    return 0;
  }
  const T smaller = size_a < size_b ? size_a : size_b;
  if (intersection > smaller) {  // tolerance-band overshoot: keep IoU <= 1
    intersection = smaller;
  }
  return intersection / (size_a + size_b - intersection);
}

// Rotated IoU in the ground plane.
template <typename T>
HOST_DEVICE inline T box_iou(const BevBox<T>& a, const BevBox<T>& b) {
  if (!(a.area > 0 && b.area > 0)) {
    return 0;
  }
  return iou_from_intersection(intersection_area(a, b), a.area, b.area);
}

// 3D IoU: ground intersection area x vertical overlap / (volume_a + volume_b - intersection).
template <typename T>
HOST_DEVICE inline T box_iou(const KittiBox<T>& a, const KittiBox<T>& b) {
  const T overlap_bottom = a.bottom < b.bottom ? a.bottom : b.bottom;
  const T overlap_top = a.top > b.top ? a.top : b.top;
  const T height = overlap_bottom - overlap_top;
  if (!(height > 0 && a.volume > 0 && b.volume > 0)) {
    return 0;
  }
  return iou_from_intersection(intersection_area(a.bev, b.bev) * height, a.volume, b.volume);
}

}  // namespace alpi
