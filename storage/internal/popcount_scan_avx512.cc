// File: storage/internal/popcount_scan_avx512.cc
//
// AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vpopcntdq
// -mavx512bitalg -mpopcnt; only called after ScanIsaSupported(kAvx512)).
// One 512-bit load holds the same word of a whole 8-code block, VPOPCNTQ
// counts it, and a mask compare gives the survivors. As in the AVX2 file the
// first two words bound the distance and the last two are read only when
// some code in the block survives; the hot loop is then 2 loads, 2 XOR,
// 2 POPCNT, 1 add and 1 compare per 8 codes (less in batches, see ScanFour).
#include <immintrin.h>

#include "storage/internal/code_blocks.h"
#include "storage/internal/popcnt_verify_inl.h"
#include "storage/internal/scan_kernels.h"

namespace optout::storage::internal {
namespace {

struct Query512 {
  explicit Query512(const Code256& q, int radius)
      : w0(_mm512_set1_epi64(static_cast<long long>(q[0]))),
        w1(_mm512_set1_epi64(static_cast<long long>(q[1]))),
        w2(_mm512_set1_epi64(static_cast<long long>(q[2]))),
        w3(_mm512_set1_epi64(static_cast<long long>(q[3]))),
        r(_mm512_set1_epi64(radius)) {}
  __m512i w0, w1, w2, w3, r;
};

inline __m512i PartialDistance(const uint64_t* blk, const Query512& q) {
  return _mm512_add_epi64(
      _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(blk), q.w0)),
      _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(blk + 8), q.w1)));
}

inline __mmask8 FullMask(const uint64_t* blk, __m512i partial,
                         const Query512& q) {
  const __m512i rest = _mm512_add_epi64(
      _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(blk + 16), q.w2)),
      _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_load_si512(blk + 24), q.w3)));
  return _mm512_cmple_epu64_mask(_mm512_add_epi64(partial, rest), q.r);
}

template <typename Emit>
inline void EmitBlock(const uint64_t* words, size_t n, size_t b, __m512i partial,
                      const Query512& q, Emit& emit) {
  const uint64_t* blk = words + b * kBlockWords;
  unsigned mask = FullMask(blk, partial, q);
  const size_t first = b * kBlockCodes;
  if (n - first < kBlockCodes) mask &= (1u << (n - first)) - 1;
  while (mask != 0) {
    emit(first + __builtin_ctz(mask));
    mask &= mask - 1;
  }
}

template <typename Emit>
inline void ScanOne(const uint64_t* words, size_t n, const Code256& query,
                    int radius, Emit emit) {
  const Query512 q(query, radius);
  const size_t blocks = (n + kBlockCodes - 1) / kBlockCodes;
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const __m512i p0 = PartialDistance(words + b * kBlockWords, q);
    const __m512i p1 = PartialDistance(words + (b + 1) * kBlockWords, q);
    const __mmask8 m0 = _mm512_cmple_epu64_mask(p0, q.r);
    const __mmask8 m1 = _mm512_cmple_epu64_mask(p1, q.r);
    if ((m0 | m1) == 0) continue;
    if (m0 != 0) EmitBlock(words, n, b, p0, q, emit);
    if (m1 != 0) EmitBlock(words, n, b + 1, p1, q, emit);
  }
  if (b < blocks) {
    const __m512i p = PartialDistance(words + b * kBlockWords, q);
    if (_mm512_cmple_epu64_mask(p, q.r) != 0) EmitBlock(words, n, b, p, q, emit);
  }
}

void Scan(const uint64_t* words, size_t n, const Code256& query, int radius,
          uint32_t offset, std::vector<uint32_t>* out) {
  ScanOne(words, n, query, radius, [&](size_t i) {
    out->push_back(offset + static_cast<uint32_t>(i));
  });
}

// Four queries share each block load, and one compare on the minimum of
// their partial distances decides whether any of them needs a closer look;
// this trims the hot loop to about 6.75 instructions per block and query.
void ScanFour(const uint64_t* words, size_t n, const Code256* queries,
              uint64_t first_query, int radius, uint32_t offset,
              std::vector<uint64_t>* out) {
  const Query512 q[4] = {Query512(queries[0], radius), Query512(queries[1], radius),
                         Query512(queries[2], radius), Query512(queries[3], radius)};
  const size_t blocks = (n + kBlockCodes - 1) / kBlockCodes;
  for (size_t b = 0; b < blocks; ++b) {
    const uint64_t* blk = words + b * kBlockWords;
    const __m512i w0 = _mm512_load_si512(blk);
    const __m512i w1 = _mm512_load_si512(blk + 8);
    __m512i p[4];
    for (int k = 0; k < 4; ++k) {
      p[k] = _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(w0, q[k].w0)),
                              _mm512_popcnt_epi64(_mm512_xor_si512(w1, q[k].w1)));
    }
    const __m512i low = _mm512_min_epu64(_mm512_min_epu64(p[0], p[1]),
                                         _mm512_min_epu64(p[2], p[3]));
    if (_mm512_cmple_epu64_mask(low, q[0].r) == 0) continue;
    for (int k = 0; k < 4; ++k) {
      if (_mm512_cmple_epu64_mask(p[k], q[k].r) == 0) continue;
      auto emit = [&](size_t i) {
        out->push_back(((first_query + k) << 32) | (offset + i));
      };
      EmitBlock(words, n, b, p[k], q[k], emit);
    }
  }
}

void ScanBatch(const uint64_t* words, size_t n, const Code256* queries,
               size_t nq, int radius, uint32_t offset,
               std::vector<uint64_t>* out) {
  size_t j = 0;
  for (; j + 4 <= nq; j += 4) {
    ScanFour(words, n, queries + j, j, radius, offset, out);
  }
  for (; j < nq; ++j) {
    ScanOne(words, n, queries[j], radius, [&](size_t i) {
      out->push_back((uint64_t{j} << 32) | (offset + i));
    });
  }
}

void MatchSubkeys(const uint8_t* subkeys, const uint32_t* ids,
                  const SubkeyRange* ranges, size_t num_ranges,
                  uint8_t query_subkey, std::vector<uint32_t>* out) {
  const __m512i q = _mm512_set1_epi8(static_cast<char>(query_subkey));
  for (size_t r = 0; r < num_ranges && r < kRangesAhead; ++r) {
    PrefetchRange(subkeys, ids, ranges[r]);
  }
  for (size_t r = 0; r < num_ranges; ++r) {
    if (r + kRangesAhead < num_ranges) {
      PrefetchRange(subkeys, ids, ranges[r + kRangesAhead]);
    }
    const uint32_t end = ranges[r].end;
    const __m512i limit = _mm512_set1_epi8(static_cast<char>(ranges[r].budget));
    for (uint32_t i = ranges[r].begin; i < end; i += 64) {
      const uint32_t left = end - i;
      // Masked loads never touch bytes past `end`.
      const __mmask64 valid =
          left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
      const __m512i v =
          _mm512_xor_si512(_mm512_maskz_loadu_epi8(valid, subkeys + i), q);
      uint64_t mask =
          _mm512_mask_cmple_epu8_mask(valid, _mm512_popcnt_epi8(v), limit);
      while (mask != 0) {
        const uint32_t k = i + static_cast<uint32_t>(__builtin_ctzll(mask));
        out->push_back(ids != nullptr ? ids[k] : k);
        mask &= mask - 1;
      }
    }
  }
}

}  // namespace

const ScanKernels kAvx512Kernels = {ScanIsa::kAvx512, "avx512", &Scan,
                                    &ScanBatch, &Verify, &MatchSubkeys};

}  // namespace optout::storage::internal
