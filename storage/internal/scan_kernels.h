// File: storage/internal/scan_kernels.h
//
// The popcount kernels behind HammingIndex, one set per instruction-set
// level, chosen at run time (__builtin_cpu_supports): AVX-512 with VPOPCNTDQ
// and BITALG, AVX2, and a portable fallback. Each set lives in its own .cc
// compiled with its own flags, so the rest of the library stays baseline
// x86-64 and runs anywhere.
//
// All kernels are exact: they return every code within `radius`, never one
// beyond it. Codes are in CodeBlocks layout (storage/internal/code_blocks.h).
// Kernels only append to their output vector.
//
// Thread-safety: stateless; safe from any thread.
#ifndef OPTOUT_STORAGE_INTERNAL_SCAN_KERNELS_H_
#define OPTOUT_STORAGE_INTERNAL_SCAN_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/code256.h"
#include "storage/scan_isa.h"

namespace optout::storage::internal {

// A bucket of one MIH slot: entries [begin, end) and the largest subkey
// distance (budget) that can still put a code within the radius.
struct SubkeyRange {
  uint32_t begin;
  uint32_t end;
  int32_t budget;
};

struct ScanKernels {
  ScanIsa isa;
  const char* name;

  // Appends offset + i for every code i in [0, n) of `words` within
  // `radius` of `query`. `words` holds ceil(n/8) blocks.
  void (*scan)(const uint64_t* words, size_t n, const Code256& query,
               int radius, uint32_t offset, std::vector<uint32_t>* out);

  // The same for queries[0..nq): appends (j << 32) | (offset + i) for every
  // query j and code i within `radius`. Callers pass a cache-sized tile of
  // codes so that it stays in L1/L2 while every query is run over it.
  void (*scan_batch)(const uint64_t* words, size_t n, const Code256* queries,
                     size_t nq, int radius, uint32_t offset,
                     std::vector<uint64_t>* out);

  // Appends positions[i] for every i whose code (in `words`) is within
  // `radius` of `query`; prefetches ahead, as positions are random.
  void (*verify)(const uint64_t* words, const uint32_t* positions, size_t n,
                 const Code256& query, int radius, std::vector<uint32_t>* out);

  // For every range: appends id(i) for every i in [begin, end) with
  // popcount(subkeys[i] ^ query_subkey) <= budget, where id(i) = ids[i], or
  // i itself when ids is null. One call covers all the buckets one slot
  // probes, so per-bucket overhead stays small when buckets hold few entries.
  void (*match_subkeys)(const uint8_t* subkeys, const uint32_t* ids,
                        const SubkeyRange* ranges, size_t num_ranges,
                        uint8_t query_subkey, std::vector<uint32_t>* out);
};

// The kernels for `isa`; kAuto, or a level this CPU cannot run, gives the
// best supported one.
const ScanKernels& KernelsFor(ScanIsa isa);

// Per-level kernel tables, defined in popcount_scan_*.cc.
extern const ScanKernels kPortableKernels;
extern const ScanKernels kAvx2Kernels;
extern const ScanKernels kAvx512Kernels;

}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_SCAN_KERNELS_H_
