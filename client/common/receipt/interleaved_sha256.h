// File: client/common/receipt/interleaved_sha256.h
//
// InterleavedSha256: the hash of one ItemsDigest stream (items_digest.h),
// made so that its SHA-256 compressions are independent four at a time.
// A single running SHA-256 is one chain of dependent compressions (~50 ns
// per 64-byte block on this project's machines); a dataset row feeds the
// receipt about 4.5 blocks (eight 32-byte URL expression digests and an
// MD5) on both sides, client and registry, so that chain was ~10 % of the
// CPU per row. Four chains run in lockstep on the SHA unit at ~30 ns per
// block (client/common/digest/sha256_blocks.h).
//
// Definition: the stream's bytes are cut into 64-byte blocks; block j
// (0-based) belongs to lane j mod 4, the last, partial block included.
// Each lane is the SHA-256 of its blocks concatenated, and the stream's
// hash is SHA-256(u64 LE stream length || lane 0 || lane 1 || lane 2 ||
// lane 3). The lanes are fixed by byte offsets in the stream, never by how
// the bytes were fed, so it is a function of the stream's bytes alone; and
// a collision of it needs a collision of SHA-256 (the outer hash, or a lane
// with the length fixing where every lane's blocks come from).
//
// Thread-compatible.
#ifndef OPTOUT_CLIENT_COMMON_RECEIPT_INTERLEAVED_SHA256_H_
#define OPTOUT_CLIENT_COMMON_RECEIPT_INTERLEAVED_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/common/digest/sha256_blocks.h"

namespace optout::receipt {

class InterleavedSha256 final {
 public:
  static constexpr size_t kLanes = 4;
  static constexpr size_t kBlock = 64;

  InterleavedSha256();
  void Update(const void* data, size_t n);
  uint64_t length() const { return length_; }
  // The hash of everything fed so far; Update may go on afterwards.
  std::array<uint8_t, 32> Finish() const;

  // The state as bytes, appended to `out`: the stream length (u64 LE) and,
  // unless it is 0, the lanes and the bytes of the round not yet absorbed
  // (length mod 256 of them). 8 bytes for an unused stream, 136..391 for
  // another: a registry journals it after every batch of a check session
  // (ItemsDigest::SaveState), and the bytes are what that costs.
  static constexpr size_t kMaxStateBytes = 8 + kLanes * 32 + kLanes * kBlock - 1;
  void Save(std::string* out) const;
  // Reads a state Save wrote from the front of `state`: the bytes it took,
  // or 0 (changing nothing) for bytes Save did not write.
  size_t Restore(const char* state, size_t size);
  // The fixed layout of builds before (lanes, pending size, length, the
  // whole pending buffer: kLegacyStateBytes), still read so that sessions
  // journaled by them survive the upgrade. False as Restore.
  static constexpr size_t kLegacyStateBytes = kLanes * 32 + 8 + 8 + kLanes * kBlock;
  bool RestoreLegacy(const char* state);

 private:
  // Absorbs four whole blocks, one per lane, in lockstep.
  void Absorb(const uint8_t* four_blocks);

  digest::Sha256State lanes_[kLanes];
  // Bytes of the round of four blocks not yet complete.
  uint8_t pending_[kLanes * kBlock];
  size_t pending_size_ = 0;
  uint64_t length_ = 0;
};

}  // namespace optout::receipt

#endif  // OPTOUT_CLIENT_COMMON_RECEIPT_INTERLEAVED_SHA256_H_
