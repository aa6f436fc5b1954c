// File: storage/internal/mih_layout.cc
#include "storage/internal/mih_layout.h"

#include <algorithm>
#include <bitset>
#include <vector>

namespace optout::storage::internal {

static_assert(kSlotStart[kNumSlots - 1] + kSlotWidth[kNumSlots - 1] == kCodeBits,
              "slots must cover the code exactly");

std::array<int, kNumSlots> SlotThresholds(int radius) {
  std::array<int, kNumSlots> t;
  const int units = radius + 1;
  for (int s = 0; s < kNumSlots; ++s) {
    t[s] = units / kNumSlots - 1 + (s < units % kNumSlots ? 1 : 0);
  }
  return t;
}

namespace {
struct MaskTable {
  MaskTable() {
    masks.resize(kNumBuckets);
    for (uint32_t m = 0; m < kNumBuckets; ++m) masks[m] = static_cast<uint16_t>(m);
    std::stable_sort(masks.begin(), masks.end(), [](uint16_t a, uint16_t b) {
      return std::bitset<16>(a).count() < std::bitset<16>(b).count();
    });
    for (int t = 0; t <= kPrefixBits; ++t) {
      ball[t] = static_cast<uint32_t>(BallSize(kPrefixBits, t));
    }
  }
  std::vector<uint16_t> masks;
  std::array<uint32_t, kPrefixBits + 1> ball;
};

const MaskTable& Table() {
  static const MaskTable* table = new MaskTable();
  return *table;
}
}  // namespace

absl::Span<const uint16_t> MasksByPopcount() { return Table().masks; }

uint32_t BallSize16(int t) {
  if (t < 0) return 0;
  return Table().ball[std::min(t, kPrefixBits)];
}

double BallSize(int w, int t) {
  double total = 0;
  double binom = 1;  // C(w, i)
  for (int i = 0; i <= t && i <= w; ++i) {
    total += binom;
    binom = binom * (w - i) / (i + 1);
  }
  return total;
}

}  // namespace optout::storage::internal
