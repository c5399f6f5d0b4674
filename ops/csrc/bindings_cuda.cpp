// The CUDA module: ops/_ops_cuda*.so, built separately so that the CPU module loads without a CUDA runtime.
#include "bindings_common.h"
#include "cuda_utils.h"

PYBIND11_MODULE(_ops_cuda, module) {
  module.doc() = "ALPI rotated-box ops, CUDA implementation (use the wrapper in ops/__init__.py)";
  alpi::define_ops<alpi::Cuda>(module);
  module.def("device_count", &alpi::cuda_device_count, "number of visible CUDA devices (0 without driver or GPU)");
}
