// File: storage/internal/mih_layout.h
//
// How MihSegment cuts a 256-bit code into substrings ("slots") for
// multi-index hashing (Norouzi et al., 2014; service/DESIGN.md#indexes).
//
// 11 slots of 24, 24, 24, 23, ..., 23 contiguous bits. Within a slot, the low
// 16 bits are the *prefix* (the bucket in a 65536-entry directory) and the
// 7 or 8 high bits the *subkey*, stored as one byte per entry and compared
// with SIMD inside the bucket. So a slot behaves like a 23/24-bit hash table
// while its directory costs only 256 KiB.
//
// Pigeonhole: if d(a, b) <= r and each slot s gets a threshold t_s with
// sum_s (t_s + 1) = r + 1, then some slot has d_s(a, b) <= t_s. t_s = -1
// means the slot is not probed at all.
//
// Thread-safety: pure functions and immutable tables.
#ifndef OPTOUT_STORAGE_INTERNAL_MIH_LAYOUT_H_
#define OPTOUT_STORAGE_INTERNAL_MIH_LAYOUT_H_

#include <array>
#include <cstdint>

#include "absl/types/span.h"
#include "storage/code256.h"

namespace optout::storage::internal {

inline constexpr int kNumSlots = 11;
inline constexpr int kPrefixBits = 16;
inline constexpr uint32_t kPrefixMask = (1u << kPrefixBits) - 1;
inline constexpr uint32_t kNumBuckets = 1u << kPrefixBits;

inline constexpr std::array<int, kNumSlots> kSlotWidth = {24, 24, 24, 23, 23, 23,
                                                          23, 23, 23, 23, 23};
inline constexpr std::array<int, kNumSlots> kSlotStart = {
    0, 24, 48, 72, 95, 118, 141, 164, 187, 210, 233};

// The kSlotWidth[s]-bit value of slot s: bits [start, start + width) of the
// code, bit i being bit i % 64 of word i / 64.
inline uint32_t SlotValue(const Code256& code, int s) {
  const int start = kSlotStart[s];
  const int word = start >> 6;
  const int shift = start & 63;
  uint64_t v = code[word] >> shift;
  if (shift + kSlotWidth[s] > 64) v |= code[word + 1] << (64 - shift);
  return static_cast<uint32_t>(v & ((uint64_t{1} << kSlotWidth[s]) - 1));
}

// Per-slot thresholds for radius r >= 0 (see the pigeonhole note above);
// wider slots get the larger thresholds, as they select fewer candidates.
std::array<int, kNumSlots> SlotThresholds(int radius);

// All 65536 16-bit masks ordered by popcount; the first BallSize16(t) of
// them are exactly the masks with popcount <= t.
absl::Span<const uint16_t> MasksByPopcount();
uint32_t BallSize16(int t);

// Number of w-bit values within distance t of a given one (t may be < 0).
double BallSize(int w, int t);

}  // namespace optout::storage::internal

#endif  // OPTOUT_STORAGE_INTERNAL_MIH_LAYOUT_H_
