#include "client/common/url/ipv4.h"

#include "client/common/url/escape.h"

namespace optout::url {
namespace {

constexpr uint64_t kSaturated = uint64_t{1} << 40;  // > any valid part

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses one part; nullopt when it is not a number in its base.
std::optional<uint64_t> ParsePart(absl::string_view part) {
  if (part.empty()) return std::nullopt;
  uint64_t value = 0;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    for (char c : part.substr(2)) {
      if (!IsHexDigit(static_cast<unsigned char>(c))) return std::nullopt;
      const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      value = value >= kSaturated ? kSaturated : value * 16 + static_cast<uint64_t>(digit);
    }
    return value;
  }
  const bool octal = part.size() >= 2 && part[0] == '0';
  const uint64_t base = octal ? 8 : 10;
  for (char c : part) {
    if (!IsDigit(c) || (octal && c > '7')) return std::nullopt;
    value = value >= kSaturated ? kSaturated : value * base + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

bool IsNumericLabel(absl::string_view label) {
  if (label.empty()) return false;
  if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    for (char c : label.substr(2)) {
      if (!IsHexDigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }
  for (char c : label) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool LastLabelIsNumeric(absl::string_view host) {
  const size_t dot = host.rfind('.');
  return IsNumericLabel(dot == absl::string_view::npos ? host : host.substr(dot + 1));
}

std::optional<uint32_t> ParseIpv4(absl::string_view host) {
  uint64_t parts[4];
  int n = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const absl::string_view piece =
        host.substr(start, dot == absl::string_view::npos ? absl::string_view::npos : dot - start);
    if (n == 4) return std::nullopt;  // more than four parts
    const std::optional<uint64_t> value = ParsePart(piece);
    if (!value) return std::nullopt;
    parts[n++] = *value;
    if (dot == absl::string_view::npos) break;
    start = dot + 1;
  }
  uint64_t address = 0;
  for (int i = 0; i < n - 1; ++i) {
    if (parts[i] > 255) return std::nullopt;
    address |= parts[i] << (8 * (3 - i));
  }
  const uint64_t last_limit = uint64_t{1} << (8 * (5 - n));
  if (parts[n - 1] >= last_limit) return std::nullopt;
  address |= parts[n - 1];
  return static_cast<uint32_t>(address);
}

void AppendIpv4(uint32_t address, std::string* out) {
  char buf[16];
  char* w = buf;
  for (int i = 3; i >= 0; --i) {
    unsigned byte = (address >> (8 * i)) & 0xFF;
    if (byte >= 100) *w++ = static_cast<char>('0' + byte / 100);
    if (byte >= 10) *w++ = static_cast<char>('0' + (byte / 10) % 10);
    *w++ = static_cast<char>('0' + byte % 10);
    if (i != 0) *w++ = '.';
  }
  out->append(buf, static_cast<size_t>(w - buf));
}

}  // namespace optout::url
