// File: storage/internal/popcnt_verify_inl.h
//
// Candidate verification and bucket prefetching shared by the kernels that
// may use the POPCNT instruction (AVX2 and AVX-512 files, both compiled
// with -mpopcnt). Include only from such a file, inside
// optout::storage::internal: everything here sits in an unnamed namespace so
// that each kernel file keeps its own copy, compiled with its own ISA flags
// (a shared inline definition could be merged by the linker into one that
// the CPU cannot run).
#ifndef OPTOUT_STORAGE_INTERNAL_POPCNT_VERIFY_INL_H_
#define OPTOUT_STORAGE_INTERNAL_POPCNT_VERIFY_INL_H_

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/internal/code_blocks.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage::internal {
namespace {

inline const uint64_t* WordZero(const uint64_t* words, uint32_t p) {
  return words + (p / kBlockCodes) * kBlockWords + p % kBlockCodes;
}

void Verify(const uint64_t* words, const uint32_t* positions, size_t n,
            const Code256& query, int radius, std::vector<uint32_t>* out) {
  // Candidates are scattered over the whole array, so each costs a cache
  // miss; prefetching a few ahead keeps several misses in flight.
  constexpr size_t kAhead = 12;
  for (size_t i = 0; i < n && i < kAhead; ++i) {
    __builtin_prefetch(WordZero(words, positions[i]));
    __builtin_prefetch(WordZero(words, positions[i]) + kBlockCodes);
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      const uint64_t* ahead = WordZero(words, positions[i + kAhead]);
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + kBlockCodes);
    }
    const uint64_t* w = WordZero(words, positions[i]);
    int d = static_cast<int>(_mm_popcnt_u64(w[0] ^ query[0]) +
                             _mm_popcnt_u64(w[kBlockCodes] ^ query[1]));
    if (d > radius) continue;
    d += static_cast<int>(_mm_popcnt_u64(w[2 * kBlockCodes] ^ query[2]) +
                          _mm_popcnt_u64(w[3 * kBlockCodes] ^ query[3]));
    if (d <= radius) out->push_back(positions[i]);
  }
}

// Buckets are scattered: a few ranges ahead, their first lines are fetched.
constexpr size_t kRangesAhead = 6;

inline void PrefetchRange(const uint8_t* subkeys, const uint32_t* ids,
                          const SubkeyRange& range) {
  __builtin_prefetch(subkeys + range.begin);
  if (ids != nullptr) __builtin_prefetch(ids + range.begin);
}

}  // namespace
}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_POPCNT_VERIFY_INL_H_
