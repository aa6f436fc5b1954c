#include "client/pdq/pdq_hash.h"

#include <algorithm>
#include <bitset>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::pdq {

bool PdqHash::IsZero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string PdqHash::ToHex() const {
  // The reference prints the 256-bit number most significant word first, and
  // bytes[] is little-endian, so the hex is that of the reversed bytes.
  std::array<uint8_t, 32> reversed;
  std::reverse_copy(bytes.begin(), bytes.end(), reversed.begin());
  return digest::ToHex(reversed);
}

absl::StatusOr<PdqHash> PdqHash::FromHex(absl::string_view hex) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("PDQ hash must be 64 hex digits, got ", hex.size(), " characters"));
  }
  absl::StatusOr<std::string> raw = digest::FromHex(hex, 32);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("PDQ hash is not valid hex: ", raw.status().message()));
  }
  PdqHash hash;
  std::reverse_copy(raw->begin(), raw->end(), hash.bytes.begin());
  return hash;
}

int HammingDistance(const PdqHash& a, const PdqHash& b) {
  int distance = 0;
  for (size_t i = 0; i < a.bytes.size(); i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.bytes.data() + i, 8);
    std::memcpy(&y, b.bytes.data() + i, 8);
    distance += static_cast<int>(std::bitset<64>(x ^ y).count());
  }
  return distance;
}

}  // namespace optout::pdq
