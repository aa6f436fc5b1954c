// File: storage/internal/popcount_scan_avx2.cc
//
// AVX2 kernels (compiled with -mavx2 -mpopcnt; only called after
// ScanIsaSupported(kAvx2)). AVX2 has no vector popcount, so bytes are
// counted with the 4-bit lookup table in PSHUFB and summed per 64-bit lane
// with PSADBW. A code's distance is first bounded by its first two words:
// for codes unrelated to the query that already exceeds any useful radius,
// so the last two words are only read for the rare survivors.
#include <immintrin.h>

#include "storage/internal/code_blocks.h"
#include "storage/internal/popcnt_verify_inl.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage::internal {
namespace {

inline __m256i ByteCounts(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3,
                                       3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3,
                                       2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo),
                         _mm256_shuffle_epi8(lut, hi));
}

// Bit i set when lane i's 64-bit count is <= radius.
inline unsigned WithinMask(__m256i byte_counts, __m256i radius) {
  const __m256i d = _mm256_sad_epu8(byte_counts, _mm256_setzero_si256());
  const __m256i gt = _mm256_cmpgt_epi64(d, radius);
  return ~static_cast<unsigned>(_mm256_movemask_pd(_mm256_castsi256_pd(gt))) & 0xf;
}

template <typename Emit>
inline void ScanOne(const uint64_t* words, size_t n, const Code256& query,
                    int radius, Emit emit) {
  const __m256i q0 = _mm256_set1_epi64x(static_cast<long long>(query[0]));
  const __m256i q1 = _mm256_set1_epi64x(static_cast<long long>(query[1]));
  const __m256i q2 = _mm256_set1_epi64x(static_cast<long long>(query[2]));
  const __m256i q3 = _mm256_set1_epi64x(static_cast<long long>(query[3]));
  const __m256i rr = _mm256_set1_epi64x(radius);
  const size_t blocks = (n + kBlockCodes - 1) / kBlockCodes;
  for (size_t b = 0; b < blocks; ++b) {
    const uint64_t* blk = words + b * kBlockWords;
    unsigned mask = 0;
    __m256i c[2];
    for (int h = 0; h < 2; ++h) {
      const __m256i x0 = _mm256_xor_si256(
          _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 4 * h)), q0);
      const __m256i x1 = _mm256_xor_si256(
          _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 8 + 4 * h)), q1);
      c[h] = _mm256_add_epi8(ByteCounts(x0), ByteCounts(x1));
      mask |= WithinMask(c[h], rr) << (4 * h);
    }
    if (mask == 0) continue;
    mask = 0;
    for (int h = 0; h < 2; ++h) {
      const __m256i x2 = _mm256_xor_si256(
          _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 16 + 4 * h)), q2);
      const __m256i x3 = _mm256_xor_si256(
          _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 24 + 4 * h)), q3);
      const __m256i all = _mm256_add_epi8(
          c[h], _mm256_add_epi8(ByteCounts(x2), ByteCounts(x3)));
      mask |= WithinMask(all, rr) << (4 * h);
    }
    const size_t first = b * kBlockCodes;
    if (n - first < kBlockCodes) mask &= (1u << (n - first)) - 1;
    while (mask != 0) {
      emit(first + __builtin_ctz(mask));
      mask &= mask - 1;
    }
  }
}

void Scan(const uint64_t* words, size_t n, const Code256& query, int radius,
          uint32_t offset, std::vector<uint32_t>* out) {
  ScanOne(words, n, query, radius, [&](size_t i) {
    out->push_back(offset + static_cast<uint32_t>(i));
  });
}

void ScanBatch(const uint64_t* words, size_t n, const Code256* queries,
               size_t nq, int radius, uint32_t offset,
               std::vector<uint64_t>* out) {
  for (size_t j = 0; j < nq; ++j) {
    ScanOne(words, n, queries[j], radius, [&](size_t i) {
      out->push_back((uint64_t{j} << 32) | (offset + i));
    });
  }
}

void MatchSubkeys(const uint8_t* subkeys, const uint32_t* ids,
                  const SubkeyRange* ranges, size_t num_ranges,
                  uint8_t query_subkey, std::vector<uint32_t>* out) {
  const __m256i q = _mm256_set1_epi8(static_cast<char>(query_subkey));
  for (size_t r = 0; r < num_ranges && r < kRangesAhead; ++r) {
    PrefetchRange(subkeys, ids, ranges[r]);
  }
  for (size_t r = 0; r < num_ranges; ++r) {
    if (r + kRangesAhead < num_ranges) {
      PrefetchRange(subkeys, ids, ranges[r + kRangesAhead]);
    }
    const uint32_t end = ranges[r].end;
    const int budget = ranges[r].budget;
    const __m256i limit = _mm256_set1_epi8(static_cast<char>(budget));
    uint32_t i = ranges[r].begin;
    for (; i + 32 <= end; i += 32) {
      const __m256i v = _mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(subkeys + i)), q);
      const __m256i gt = _mm256_cmpgt_epi8(ByteCounts(v), limit);
      unsigned mask = ~static_cast<unsigned>(_mm256_movemask_epi8(gt));
      while (mask != 0) {
        const uint32_t k = i + __builtin_ctz(mask);
        out->push_back(ids != nullptr ? ids[k] : k);
        mask &= mask - 1;
      }
    }
    for (; i < end; ++i) {
      if (static_cast<int>(_mm_popcnt_u32(subkeys[i] ^ query_subkey)) <= budget) {
        out->push_back(ids != nullptr ? ids[i] : i);
      }
    }
  }
}

}  // namespace

const ScanKernels kAvx2Kernels = {ScanIsa::kAvx2, "avx2", &Scan, &ScanBatch,
                                  &Verify, &MatchSubkeys};

}  // namespace optout::storage::internal
