#include "client/common/url/ipv6.h"

#include "client/common/url/escape.h"
#include "client/common/url/ipv4.h"

namespace optout::url {
namespace {

int HexValue(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// Strict dotted decimal: four parts 0-255, no leading zeros.
std::optional<uint32_t> ParseDottedQuad(absl::string_view s) {
  uint32_t address = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    const size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    const size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return std::nullopt;
    address = (address << 8) | value;
  }
  if (i != s.size()) return std::nullopt;
  return address;
}

}  // namespace

std::optional<Ipv6Address> ParseIpv6(absl::string_view s) {
  Ipv6Address groups{};
  int n = 0;
  int compress = -1;
  size_t i = 0;
  if (s.empty()) return std::nullopt;
  if (s[0] == ':') {
    if (s.size() < 2 || s[1] != ':') return std::nullopt;
    compress = 0;
    i = 2;
  }
  while (i < s.size()) {
    if (n == 8) return std::nullopt;
    const size_t start = i;
    while (i < s.size() && IsHexDigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '.') {
      // Trailing dotted-decimal IPv4 part: must reach the end of the text.
      if (n > 6) return std::nullopt;
      const std::optional<uint32_t> v4 = ParseDottedQuad(s.substr(start));
      if (!v4) return std::nullopt;
      groups[n++] = static_cast<uint16_t>(*v4 >> 16);
      groups[n++] = static_cast<uint16_t>(*v4 & 0xFFFF);
      i = s.size();
      break;
    }
    const size_t len = i - start;
    if (len == 0 || len > 4) return std::nullopt;
    unsigned value = 0;
    for (size_t k = start; k < i; ++k) value = value * 16 + static_cast<unsigned>(HexValue(s[k]));
    groups[n++] = static_cast<uint16_t>(value);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compress != -1) return std::nullopt;
      compress = n;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  if (compress == -1) {
    if (n != 8) return std::nullopt;
    return groups;
  }
  if (n > 7) return std::nullopt;  // '::' must stand for at least one group
  Ipv6Address out{};
  for (int k = 0; k < compress; ++k) out[k] = groups[k];
  const int tail = n - compress;
  for (int k = 0; k < tail; ++k) out[8 - tail + k] = groups[compress + k];
  return out;
}

void AppendCanonicalIpv6Host(const Ipv6Address& a, std::string* out) {
  const bool low96_zero_prefix = a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0 && a[4] == 0;
  const bool mapped = low96_zero_prefix && a[5] == 0xFFFF;
  const bool nat64 = a[0] == 0x64 && a[1] == 0xFF9B && a[2] == 0 && a[3] == 0 && a[4] == 0 &&
                     a[5] == 0;
  if (mapped || nat64) {
    AppendIpv4((static_cast<uint32_t>(a[6]) << 16) | a[7], out);
    return;
  }
  // Longest run (>= 2) of zero groups, leftmost on a tie.
  int best_start = -1, best_len = 0;
  for (int k = 0; k < 8;) {
    if (a[k] != 0) {
      ++k;
      continue;
    }
    int end = k;
    while (end < 8 && a[end] == 0) ++end;
    if (end - k >= 2 && end - k > best_len) {
      best_start = k;
      best_len = end - k;
    }
    k = end;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('[');
  for (int k = 0; k < 8; ++k) {
    if (k == best_start) {
      out->append("::");
      k += best_len - 1;
      continue;
    }
    if (k > 0 && k != best_start + best_len) out->push_back(':');
    const unsigned v = a[k];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned digit = (v >> shift) & 15;
      if (digit != 0 || started || shift == 0) {
        out->push_back(kHex[digit]);
        started = true;
      }
    }
  }
  out->push_back(']');
}

}  // namespace optout::url
