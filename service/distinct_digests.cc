#include "service/distinct_digests.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace optout::service {
namespace {

// Slots tried before a value is kept as distinct without a slot.
constexpr size_t kMaxProbes = 16;
// After this many values, lookups stop unless at least one in kMinRepeatShare
// of them repeated an earlier one.
constexpr size_t kSampleValues = 4096;
constexpr size_t kMinRepeatShare = 8;

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

struct Seeds {
  uint64_t s[4];
  Seeds() {
    std::random_device rd;
    for (uint64_t& v : s) v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
};

// All of the value's bytes, keyed: crafted values cannot aim at one slot.
uint64_t Hash(const char* p, size_t length) {
  static const Seeds seeds;
  uint64_t h = 0;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    h = (h ^ Load64(p + i) ^ seeds.s[(i / 8) & 3]) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  return h;
}

// The same for the usual lengths (16 and 32 bytes): each pair of keyed
// words multiplied to 128 bits and folded, the products independent
// instead of a chain of four multiplies, so that the hash's latency no
// longer holds up the probes (Find on LAION-like URL digests, 8 a row:
// ~11.7 -> ~7.5 ns a value).
template <size_t kLength>
uint64_t HashAs(const char* p, size_t length) {
  if constexpr (kLength == 16 || kLength == 32) {
    static const Seeds seeds;
    uint64_t h = 0;
    for (size_t i = 0; i < kLength; i += 16) {
      const unsigned __int128 m = static_cast<unsigned __int128>(Load64(p + i) ^ seeds.s[i / 8]) *
                                  (Load64(p + i + 8) ^ seeds.s[i / 8 + 1]);
      h ^= static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
    }
    return h;
  } else {
    return Hash(p, length);
  }
}

// Equal values; a fixed length lets the compiler compare inline (a call
// to memcmp per probe was a quarter of Find's time).
template <size_t kLength>
bool Same(const char* a, const char* b, size_t) {
  return std::memcmp(a, b, kLength) == 0;
}
template <>
bool Same<0>(const char* a, const char* b, size_t length) {
  return std::memcmp(a, b, length) == 0;
}

}  // namespace

void DistinctDigests::Find(const char* data, size_t length, size_t count) {
  switch (length) {
    case 32: return FindAs<32>(data, length, count);
    case 16: return FindAs<16>(data, length, count);
    default: return FindAs<0>(data, length, count);
  }
}

template <size_t kLength>
void DistinctDigests::FindAs(const char* data, size_t length, size_t count) {
  if (kLength != 0) length = kLength;
  size_t capacity = 64;
  while (capacity < count + count / 2) capacity *= 2;
  table_.assign(capacity, 0);
  slots_.resize(count);
  distinct_.resize(count * length);
  char* out = distinct_.data();
  const size_t mask = capacity - 1;
  size_t distinct = 0;
  size_t looked_up = count;
  for (size_t i = 0; i < count; ++i) {
    if (i == kSampleValues && (i - distinct) * kMinRepeatShare < i) {
      looked_up = i;
      break;
    }
    const char* v = data + i * length;
    size_t at = HashAs<kLength>(v, length) & mask;
    uint32_t slot = UINT32_MAX;
    for (size_t probe = 0; probe < kMaxProbes; ++probe, at = (at + 1) & mask) {
      const uint32_t held = table_[at];
      if (held == 0) {
        table_[at] = static_cast<uint32_t>(distinct + 1);
        break;
      }
      if (Same<kLength>(out + (held - 1) * length, v, length)) {
        slot = held - 1;
        break;
      }
    }
    if (slot == UINT32_MAX) {
      slot = static_cast<uint32_t>(distinct++);
      std::memcpy(out + slot * length, v, length);
    }
    slots_[i] = slot;
  }
  // The values not looked up are kept as they come.
  if (looked_up < count) {
    std::memcpy(out + distinct * length, data + looked_up * length, (count - looked_up) * length);
    for (size_t i = looked_up; i < count; ++i) slots_[i] = static_cast<uint32_t>(distinct++);
  }
  size_ = distinct;
}

}  // namespace optout::service
