#include "client/common/url/escape.h"

#include <array>
#include <cstring>

namespace optout::url {
namespace {

constexpr std::array<bool, 256> MakeEscapeTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = c <= 0x20 || c >= 0x7F || c == '#' || c == '%';
  }
  return table;
}
constexpr std::array<bool, 256> kEscape = MakeEscapeTable();

inline int HexValue(unsigned char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

}  // namespace

bool NeedsEscape(unsigned char c) { return kEscape[c]; }

void AppendPercentDecodedFixpoint(absl::string_view in, bool drop_tab_cr_lf, std::string* out) {
  const bool has_percent = std::memchr(in.data(), '%', in.size()) != nullptr;
  bool has_tab_cr_lf = false;
  if (drop_tab_cr_lf) {
    for (unsigned char c : in) {
      if (c == '\t' || c == '\n' || c == '\r') {
        has_tab_cr_lf = true;
        break;
      }
    }
  }
  if (!has_percent && !has_tab_cr_lf) {
    out->append(in.data(), in.size());
    return;
  }
  const size_t base = out->size();
  out->resize(base + in.size());
  char* const begin = out->data() + base;
  char* w = begin;
  for (unsigned char c : in) {
    if (drop_tab_cr_lf && (c == '\t' || c == '\n' || c == '\r')) continue;
    *w++ = static_cast<char>(c);
    // Reduce at the tail while it reads %HH; the output before the new byte
    // holds no %HH, so only the tail can.
    while (w - begin >= 3 && w[-3] == '%' && IsHexDigit(static_cast<unsigned char>(w[-2])) &&
           IsHexDigit(static_cast<unsigned char>(w[-1]))) {
      const int value = HexValue(static_cast<unsigned char>(w[-2])) * 16 +
                        HexValue(static_cast<unsigned char>(w[-1]));
      w -= 3;
      *w++ = static_cast<char>(value);
    }
  }
  out->resize(base + static_cast<size_t>(w - begin));
}

void AppendEscaped(absl::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p < end) {
    const char* run = p;
    while (p < end && !kEscape[static_cast<unsigned char>(*p)]) ++p;
    out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p++);
    const char escaped[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    out->append(escaped, 3);
  }
}

}  // namespace optout::url
