// File: client/common/digest/sha256_blocks.h
//
// SHA-256 compressions of several independent messages at once, for the
// check path's many short hashes (~8 URL expressions per row on the client,
// an HMAC per expression on the server). One compression is a chain of 32
// dependent SHA256RNDS2 instructions whose latency, not the SHA unit's
// throughput, bounds a lone hash; the compressions of independent messages
// are interleaved here so the unit works on up to four chains at once
// (measured on the 2-core Zen 5 VM, thread CPU time per 64-byte block: one
// chain 50 ns, as OpenSSL's SHA256_Transform; two 33 ns; three or four
// 28-30 ns).
//
// Uses the x86 SHA extensions when the CPU has them (checked once at run
// time) and OpenSSL's SHA256_Transform otherwise; results are identical.
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_COMMON_DIGEST_SHA256_BLOCKS_H_
#define OPTOUT_CLIENT_COMMON_DIGEST_SHA256_BLOCKS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "client/common/digest/digest.h"

namespace optout::digest {

// The eight chaining words of SHA-256 (h0..h7, FIPS 180-4 order).
using Sha256State = std::array<uint32_t, 8>;

// The initial state (H(0)).
const Sha256State& Sha256InitialState();

// Whether the x86 SHA extensions are used (for benchmarks and tests).
bool Sha256BlocksUseShaNi();

// states[i] = compress(states[i], blocks[i]) for i < n: 64-byte blocks,
// each one's message words big-endian as SHA-256 defines them.
void Sha256CompressMany(Sha256State* states, const uint8_t* const* blocks, size_t n);

// Longest message that fits one padded block.
inline constexpr size_t kSha256OneBlockMax = 55;

// out[i] = SHA-256(messages[i]) for i < n, each message at most
// kSha256OneBlockMax bytes. The same bytes as Sha256().
void Sha256ShortMany(const absl::string_view* messages, size_t n, Sha256Digest* out);

// `state` after absorbing one more block holding the `length`-byte message
// `message` (length <= kSha256OneBlockMax) and its padding, for a total of
// `prefix_bytes` + length bytes hashed: the final digest of a hash whose
// first `prefix_bytes` (a multiple of 64) are already in `state`. For
// keyed hashes (HMAC) whose key block is absorbed once.
struct Sha256Tail {
  const Sha256State* state;
  const uint8_t* message;
  size_t length;
  uint64_t prefix_bytes;
};
void Sha256FinishMany(const Sha256Tail* tails, size_t n, Sha256Digest* out);

}  // namespace optout::digest

#endif  // OPTOUT_CLIENT_COMMON_DIGEST_SHA256_BLOCKS_H_
