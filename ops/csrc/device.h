// Device tags, the HOST_DEVICE qualifier and float/double math overloads shared by every op.
#pragma once

#include <math.h>

#if defined(__CUDACC__)
#define HOST_DEVICE __host__ __device__
#else
#define HOST_DEVICE
#endif

namespace alpi {

// Tags selecting the implementation of an op at compile time (overload resolution on the first argument).
struct Cpu {};
struct Cuda {};

// Overloads that keep float math in float on both host and device (plain cos(float) may promote to double).
HOST_DEVICE inline float cosine(float v) { return cosf(v); }
HOST_DEVICE inline double cosine(double v) { return cos(v); }
HOST_DEVICE inline float sine(float v) { return sinf(v); }
HOST_DEVICE inline double sine(double v) { return sin(v); }
HOST_DEVICE inline float square_root(float v) { return sqrtf(v); }
HOST_DEVICE inline double square_root(double v) { return sqrt(v); }

}  // namespace alpi
