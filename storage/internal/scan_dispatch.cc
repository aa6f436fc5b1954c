// File: storage/internal/scan_dispatch.cc
#include "storage/internal/scan_kernels.h"

namespace optout::storage {

bool ScanIsaSupported(ScanIsa isa) {
  switch (isa) {
    case ScanIsa::kAuto:
    case ScanIsa::kPortable:
      return true;
    case ScanIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case ScanIsa::kAvx512:
      // The kernels use 512-bit popcounts on both 64-bit words and bytes.
      return __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vpopcntdq") &&
             __builtin_cpu_supports("avx512bitalg") &&
             __builtin_cpu_supports("popcnt");
  }
  return false;
}

std::vector<ScanIsa> SupportedScanIsas() {
  std::vector<ScanIsa> isas;
  for (ScanIsa isa : {ScanIsa::kAvx512, ScanIsa::kAvx2, ScanIsa::kPortable}) {
    if (ScanIsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

const char* ScanIsaName(ScanIsa isa) {
  switch (isa) {
    case ScanIsa::kAuto:
      return "auto";
    case ScanIsa::kAvx512:
      return "avx512";
    case ScanIsa::kAvx2:
      return "avx2";
    case ScanIsa::kPortable:
      return "portable";
  }
  return "unknown";
}

namespace internal {

const ScanKernels& KernelsFor(ScanIsa isa) {
  if (isa == ScanIsa::kAuto || !ScanIsaSupported(isa)) {
    isa = SupportedScanIsas().front();
  }
  switch (isa) {
    case ScanIsa::kAvx512:
      return kAvx512Kernels;
    case ScanIsa::kAvx2:
      return kAvx2Kernels;
    default:
      return kPortableKernels;
  }
}

}  // namespace internal
}  // namespace optout::storage
