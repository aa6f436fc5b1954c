// File: storage/scan_isa.h
//
// ScanIsa names the instruction-set level of HammingIndex's popcount
// kernels. kAuto, the default everywhere, picks the best one this CPU runs;
// the others exist for tests and benchmarks that compare the levels.
//
// Thread-safety: free functions; safe from any thread.
#ifndef OPTOUT_STORAGE_SCAN_ISA_H_
#define OPTOUT_STORAGE_SCAN_ISA_H_

#include <vector>

namespace optout::storage {

enum class ScanIsa {
  kAuto,
  kAvx512,    // AVX-512 F/BW with VPOPCNTDQ and BITALG
  kAvx2,      // AVX2 + POPCNT
  kPortable,  // any CPU
};

// True when this CPU can run `isa` (kAuto and kPortable always can).
bool ScanIsaSupported(ScanIsa isa);

// Every level this CPU can run, best first; never contains kAuto.
std::vector<ScanIsa> SupportedScanIsas();

// "auto", "avx512", "avx2" or "portable".
const char* ScanIsaName(ScanIsa isa);

}  // namespace optout::storage

#endif  // OPTOUT_STORAGE_SCAN_ISA_H_
