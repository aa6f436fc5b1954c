// File: storage/internal/popcount_scan_portable.cc
//
// Baseline x86-64 (or any CPU): no POPCNT instruction is assumed, so the
// popcount is the branch-free SWAR sum, which compilers keep inline.
#include <cstring>

#include "storage/internal/code_blocks.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage::internal {
namespace {

inline int Popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

// Distance of code i to q, or radius + 1 as soon as the first two words
// already exceed the radius (most codes are far from any query).
inline int BoundedDistance(const uint64_t* words, size_t i, const Code256& q,
                           int radius) {
  const uint64_t* block = words + (i / kBlockCodes) * kBlockWords + i % kBlockCodes;
  int d = Popcount64(block[0] ^ q[0]) + Popcount64(block[kBlockCodes] ^ q[1]);
  if (d > radius) return radius + 1;
  return d + Popcount64(block[2 * kBlockCodes] ^ q[2]) +
         Popcount64(block[3 * kBlockCodes] ^ q[3]);
}

void Scan(const uint64_t* words, size_t n, const Code256& query, int radius,
          uint32_t offset, std::vector<uint32_t>* out) {
  for (size_t i = 0; i < n; ++i) {
    if (BoundedDistance(words, i, query, radius) <= radius) {
      out->push_back(offset + static_cast<uint32_t>(i));
    }
  }
}

void ScanBatch(const uint64_t* words, size_t n, const Code256* queries,
               size_t nq, int radius, uint32_t offset,
               std::vector<uint64_t>* out) {
  for (size_t j = 0; j < nq; ++j) {
    for (size_t i = 0; i < n; ++i) {
      if (BoundedDistance(words, i, queries[j], radius) <= radius) {
        out->push_back((uint64_t{j} << 32) | (offset + i));
      }
    }
  }
}

void Verify(const uint64_t* words, const uint32_t* positions, size_t n,
            const Code256& query, int radius, std::vector<uint32_t>* out) {
  for (size_t i = 0; i < n; ++i) {
    if (BoundedDistance(words, positions[i], query, radius) <= radius) {
      out->push_back(positions[i]);
    }
  }
}

void MatchSubkeys(const uint8_t* subkeys, const uint32_t* ids,
                  const SubkeyRange* ranges, size_t num_ranges,
                  uint8_t query_subkey, std::vector<uint32_t>* out) {
  for (size_t r = 0; r < num_ranges; ++r) {
    for (uint32_t i = ranges[r].begin; i < ranges[r].end; ++i) {
      if (Popcount64(subkeys[i] ^ query_subkey) <= ranges[r].budget) {
        out->push_back(ids != nullptr ? ids[i] : i);
      }
    }
  }
}

}  // namespace

const ScanKernels kPortableKernels = {ScanIsa::kPortable, "portable", &Scan,
                                      &ScanBatch, &Verify, &MatchSubkeys};

}  // namespace optout::storage::internal
