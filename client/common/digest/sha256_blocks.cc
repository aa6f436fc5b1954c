// The SHA-NI path keeps each chain's state in the two registers the
// instructions want (ABEF and CDGH words) and runs the rounds of up to four
// chains in lockstep, so that while one chain waits on SHA256RNDS2's
// latency the unit computes the others. The fallback (no SHA extensions, or
// not x86-64) is OpenSSL's one-block transform, deprecated in OpenSSL 3 but
// the only API that takes a chaining state (see digest.cc).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "client/common/digest/sha256_blocks.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define OPTOUT_SHA_NI 1
#endif

namespace optout::digest {
namespace {

constexpr Sha256State kInitial = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// Chains run together: three or four gave ~1.7x the rate of a lone chain
// on Zen 5 (two ~1.5x); more gain nothing, as the SHA instructions reach
// only 16 vector registers.
constexpr size_t kLanes = 4;

void OpenSslCompress(Sha256State* state, const uint8_t* block) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  std::memcpy(ctx.h, state->data(), sizeof(ctx.h));
  SHA256_Transform(&ctx, block);
  std::memcpy(state->data(), ctx.h, sizeof(ctx.h));
}

#ifdef OPTOUT_SHA_NI

alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

bool CpuHasShaNi() {
  unsigned a, b, c, d;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  const bool sha = (b & (1u << 29)) != 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  const bool ssse3 = (c & (1u << 9)) != 0, sse41 = (c & (1u << 19)) != 0;
  return sha && ssse3 && sse41;
}

// Compresses N chains in lockstep; the loops are unrolled so each chain's
// words stay in registers.
template <size_t N>
__attribute__((target("sha,sse4.1,ssse3"))) void ShaNiCompress(Sha256State* const* states,
                                                              const uint8_t* const* blocks) {
  // Reverses the bytes of each 32-bit word: message words are big-endian.
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abef[N], cdgh[N], abef_in[N], cdgh_in[N], w[N][4];
#pragma GCC unroll 4
  for (size_t k = 0; k < N; ++k) {
    // h0..h3 / h4..h7 into the (A,B,E,F) / (C,D,G,H) order of SHA256RNDS2,
    // highest lane first.
    const __m128i badc = _mm_shuffle_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(states[k]->data())), 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(states[k]->data() + 4)), 0x1B);
    abef[k] = abef_in[k] = _mm_alignr_epi8(badc, efgh, 8);
    cdgh[k] = cdgh_in[k] = _mm_blend_epi16(efgh, badc, 0xF0);
  }
#pragma GCC unroll 16
  for (size_t g = 0; g < 16; ++g) {  // 4 rounds per step
    const __m128i round = _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * g));
#pragma GCC unroll 4
    for (size_t k = 0; k < N; ++k) {
      __m128i* wk = w[k];
      if (g < 4) {
        wk[g] = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[k] + 16 * g)), swap);
      } else {
        // W[g] from W[g-4] (held in wk[g%4]), W[g-3], W[g-2], W[g-1].
        const __m128i w7 = _mm_alignr_epi8(wk[(g + 3) & 3], wk[(g + 2) & 3], 4);
        wk[g & 3] = _mm_sha256msg2_epu32(
            _mm_add_epi32(_mm_sha256msg1_epu32(wk[g & 3], wk[(g + 1) & 3]), w7), wk[(g + 3) & 3]);
      }
      __m128i m = _mm_add_epi32(wk[g & 3], round);
      cdgh[k] = _mm_sha256rnds2_epu32(cdgh[k], abef[k], m);  // now holds ABEF
      m = _mm_shuffle_epi32(m, 0x0E);
      abef[k] = _mm_sha256rnds2_epu32(abef[k], cdgh[k], m);  // roles swap back
    }
  }
#pragma GCC unroll 4
  for (size_t k = 0; k < N; ++k) {
    const __m128i fe_ba = _mm_shuffle_epi32(_mm_add_epi32(abef[k], abef_in[k]), 0x1B);
    const __m128i dc_hg = _mm_shuffle_epi32(_mm_add_epi32(cdgh[k], cdgh_in[k]), 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[k]->data()),
                     _mm_blend_epi16(fe_ba, dc_hg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[k]->data() + 4),
                     _mm_alignr_epi8(dc_hg, fe_ba, 8));
  }
}

#endif  // OPTOUT_SHA_NI

bool UseShaNi() {
#ifdef OPTOUT_SHA_NI
  static const bool use = CpuHasShaNi();
  return use;
#else
  return false;
#endif
}

// Compresses up to kLanes chains.
void CompressLanes(Sha256State* const* states, const uint8_t* const* blocks, size_t n) {
#ifdef OPTOUT_SHA_NI
  if (UseShaNi()) {
    switch (n) {
      case 4: return ShaNiCompress<4>(states, blocks);
      case 3: return ShaNiCompress<3>(states, blocks);
      case 2: return ShaNiCompress<2>(states, blocks);
      case 1: return ShaNiCompress<1>(states, blocks);
      default: return;
    }
  }
#endif
  for (size_t k = 0; k < n; ++k) OpenSslCompress(states[k], blocks[k]);
}

// Copies `length` <= 64 bytes with two fixed-size copies that may overlap
// (the compiler inlines each as a load and a store), reading and writing
// only [0, length). Two library calls per message (memcpy and memset of
// variable sizes) were ~10 % of optoutd's CPU per checked row, HMACs of
// 32-byte digests, and ~5 % of the client's, SHA-256 of URL expressions.
inline void CopyShort(uint8_t* to, const uint8_t* from, size_t length) {
  if (length >= 32) {
    std::memcpy(to, from, 32);
    std::memcpy(to + length - 32, from + length - 32, 32);
  } else if (length >= 16) {
    std::memcpy(to, from, 16);
    std::memcpy(to + length - 16, from + length - 16, 16);
  } else if (length >= 8) {
    std::memcpy(to, from, 8);
    std::memcpy(to + length - 8, from + length - 8, 8);
  } else if (length >= 4) {
    std::memcpy(to, from, 4);
    std::memcpy(to + length - 4, from + length - 4, 4);
  } else {
    for (size_t i = 0; i < length; ++i) to[i] = from[i];
  }
}

// The padded last block of a message of `length` <= 55 bytes after
// `prefix_bytes` already hashed.
void PadInto(const uint8_t* message, size_t length, uint64_t prefix_bytes, uint8_t* block) {
  std::memset(block, 0, 56);  // a fixed size: inlined
  CopyShort(block, message, length);
  block[length] = 0x80;
  const uint64_t bits = __builtin_bswap64((prefix_bytes + length) * 8);
  std::memcpy(block + 56, &bits, sizeof(bits));
}

void StoreDigest(const Sha256State& state, Sha256Digest* out) {
  for (int i = 0; i < 8; ++i) {
    const uint32_t word = __builtin_bswap32(state[i]);
    std::memcpy(out->data() + 4 * i, &word, sizeof(word));
  }
}

}  // namespace

const Sha256State& Sha256InitialState() { return kInitial; }

bool Sha256BlocksUseShaNi() { return UseShaNi(); }

void Sha256CompressMany(Sha256State* states, const uint8_t* const* blocks, size_t n) {
  for (size_t first = 0; first < n; first += kLanes) {
    const size_t lanes = std::min(kLanes, n - first);
    Sha256State* chains[kLanes];
    for (size_t k = 0; k < lanes; ++k) chains[k] = &states[first + k];
    CompressLanes(chains, blocks + first, lanes);
  }
}

void Sha256FinishMany(const Sha256Tail* tails, size_t n, Sha256Digest* out) {
  alignas(64) uint8_t blocks[kLanes][64];
  for (size_t first = 0; first < n; first += kLanes) {
    const size_t lanes = std::min(kLanes, n - first);
    Sha256State states[kLanes];
    Sha256State* chains[kLanes];
    const uint8_t* block_ptrs[kLanes];
    for (size_t k = 0; k < lanes; ++k) {
      const Sha256Tail& t = tails[first + k];
      PadInto(t.message, t.length, t.prefix_bytes, blocks[k]);
      states[k] = *t.state;
      chains[k] = &states[k];
      block_ptrs[k] = blocks[k];
    }
    CompressLanes(chains, block_ptrs, lanes);
    for (size_t k = 0; k < lanes; ++k) StoreDigest(states[k], &out[first + k]);
  }
}

void Sha256ShortMany(const absl::string_view* messages, size_t n, Sha256Digest* out) {
  Sha256Tail tails[kLanes];
  for (size_t first = 0; first < n; first += kLanes) {
    const size_t lanes = std::min(kLanes, n - first);
    for (size_t k = 0; k < lanes; ++k) {
      const absl::string_view m = messages[first + k];
      tails[k] = {&kInitial, reinterpret_cast<const uint8_t*>(m.data()), m.size(), 0};
    }
    Sha256FinishMany(tails, lanes, out + first);
  }
}

}  // namespace optout::digest
