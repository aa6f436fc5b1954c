// File: client/pdq/pdq_hash.h
//
// PdqHash: a 256-bit PDQ perceptual hash, its hex form and Hamming distance.
//
// Bit k of the hash (k = 16*i + j for DCT row i, column j;
// README.md#bits-and-hex) is bit (k % 8) of bytes[k / 8]; this is the wire
// layout of optout.v1.PdqHash.hash. The hex form is the reference's: the
// 256-bit number printed big-endian, i.e. the bytes reversed, 2 lower-case hex
// digits each.
//
// Abseil-free (it is part of the core that also builds for WebAssembly);
// parsing hex with a Status is PdqHashFromHex in pdq_hex.h.
// Value type; all functions are pure and thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_PDQ_HASH_H_
#define OPTOUT_CLIENT_PDQ_PDQ_HASH_H_

#include <array>
#include <cstdint>
#include <string>

namespace optout::pdq {

struct PdqHash {
  static constexpr int kBits = 256;

  std::array<uint8_t, 32> bytes{};

  bool bit(int k) const { return (bytes[k >> 3] >> (k & 7)) & 1; }
  void set_bit(int k) { bytes[k >> 3] = static_cast<uint8_t>(bytes[k >> 3] | (1u << (k & 7))); }
  bool IsZero() const;

  // 64 lower-case hex digits, reference order (bits 255..252 first).
  std::string ToHex() const;

  friend bool operator==(const PdqHash& a, const PdqHash& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const PdqHash& a, const PdqHash& b) { return !(a == b); }
};

// Number of differing bits, 0..256. Two hashes match at distance <= 31.
int HammingDistance(const PdqHash& a, const PdqHash& b);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_PDQ_HASH_H_
