// File: storage/code256.cc
#include "storage/code256.h"

#include <algorithm>
#include <bitset>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace optout::storage {

Code256 CodeFromBytes(absl::string_view bytes32) {
  unsigned char buf[kCodeBytes] = {};
  std::memcpy(buf, bytes32.data(),
              bytes32.size() < sizeof(buf) ? bytes32.size() : sizeof(buf));
  Code256 code;
  for (int i = 0; i < 4; ++i) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; --b) w = (w << 8) | buf[8 * i + b];
    code[i] = w;
  }
  return code;
}

std::string CodeToBytes(const Code256& code) {
  std::string out(kCodeBytes, '\0');
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 8; ++b) {
      out[8 * i + b] = static_cast<char>((code[i] >> (8 * b)) & 0xff);
    }
  }
  return out;
}

absl::StatusOr<Code256> CodeFromPdqHex(absl::string_view hex) {
  if (hex.size() != 2 * kCodeBytes) {
    return absl::InvalidArgumentError("PDQ hex must have 64 digits");
  }
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("PDQ hex has a non-hex digit");
    }
  }
  std::string bytes = absl::HexStringToBytes(hex);
  std::reverse(bytes.begin(), bytes.end());  // big-endian number -> wire order
  return CodeFromBytes(bytes);
}

int HammingDistance(const Code256& a, const Code256& b) {
  // std::bitset::count compiles to POPCNT where the target has it and to a
  // portable sequence otherwise; this is the reference, not the hot path.
  int d = 0;
  for (int i = 0; i < 4; ++i) d += std::bitset<64>(a[i] ^ b[i]).count();
  return d;
}

}  // namespace optout::storage
