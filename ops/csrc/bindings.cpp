// The CPU module: ops/_ops_cpu*.so.
#include "bindings_common.h"

PYBIND11_MODULE(_ops_cpu, module) {
  module.doc() = "ALPI rotated-box ops, single-threaded CPU implementation (use the wrapper in ops/__init__.py)";
  alpi::define_ops<alpi::Cpu>(module);
}
