// File: storage/code256.h
//
// Code256: a 256-bit binary code (a PDQ hash) as four 64-bit words, and the
// Hamming distance between two codes. The word order is fixed by
// CodeFromBytes: bytes [8i, 8i+8) of the 32 wire bytes, read little-endian,
// form word i. Any fixed bit order gives the same distances; this one is
// only needed so that every process maps the same bytes to the same code.
//
// Thread-safety: free functions on values; safe from any thread.
#ifndef OPTOUT_STORAGE_CODE256_H_
#define OPTOUT_STORAGE_CODE256_H_

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::storage {

using Code256 = std::array<uint64_t, 4>;

inline constexpr int kCodeBits = 256;
inline constexpr int kCodeBytes = 32;

// Reads the 32 wire bytes as 4 little-endian uint64 words.
// Precondition: bytes32.size() == 32 (the caller validates request data);
// a shorter input is zero-padded and a longer one truncated.
Code256 CodeFromBytes(absl::string_view bytes32);

// The inverse of CodeFromBytes: 32 bytes.
std::string CodeToBytes(const Code256& code);

// Parses a 64-digit PDQ hex string (the reference's form: the 256-bit number
// printed big-endian; see
// client/pdq/README.md#bits-and-hex) into the code of its wire bytes, which
// are the hex-decoded bytes reversed (optout.v1.PdqHash.hash: bit k is bit
// k % 8 of byte k / 8). So "00…01" sets bit 0: word 0 == 1.
// Returns InvalidArgument for a wrong length or a non-hex digit.
absl::StatusOr<Code256> CodeFromPdqHex(absl::string_view hex);

// Number of differing bits, 0..256.
int HammingDistance(const Code256& a, const Code256& b);

}  // namespace optout::storage

#endif  // OPTOUT_STORAGE_CODE256_H_
