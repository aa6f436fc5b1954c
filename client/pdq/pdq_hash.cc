#include "client/pdq/pdq_hash.h"

#include <algorithm>
#include <bitset>
#include <cstring>


namespace optout::pdq {

bool PdqHash::IsZero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string PdqHash::ToHex() const {
  // The reference prints the 256-bit number most significant word first, and
  // bytes[] is little-endian, so the hex is that of the reversed bytes.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) {
    hex.push_back(kDigits[*it >> 4]);
    hex.push_back(kDigits[*it & 15]);
  }
  return hex;
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
