#include "client/common/url/idna.h"

#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/utf8.h>
#include <unicode/uversion.h>

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "client/common/url/url_error.h"

namespace optout::url {
namespace {

constexpr uint32_t kAllowedIdnaErrors =
    UIDNA_ERROR_EMPTY_LABEL | UIDNA_ERROR_LABEL_TOO_LONG | UIDNA_ERROR_DOMAIN_NAME_TOO_LONG |
    UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4;

// The shared UTS #46 instance. ICU's UTS46 object is immutable after creation
// and safe to use from several threads at once.
const UIDNA* Uts46() {
  static const UIDNA* const idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    UIDNA* created = uidna_openUTS46(
        UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ, &status);
    return U_SUCCESS(status) ? created : nullptr;
  }();
  return idna;
}

// True when the running ICU's Unicode data is newer than the pinned 15.0, so
// code points assigned later must be refused explicitly.
bool NeedAgeCheck() {
  static const bool need = [] {
    UVersionInfo version;
    u_getUnicodeVersion(version);
    return version[0] > 15 || (version[0] == 15 && version[1] > 0);
  }();
  return need;
}

bool AssignedAfterUnicode15(absl::string_view s) {
  int32_t i = 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const auto length = static_cast<int32_t>(s.size());
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0x80) continue;
    UVersionInfo age;
    u_charAge(c, age);
    if (age[0] > 15 || (age[0] == 15 && age[1] > 0)) return true;
  }
  return false;
}

bool IsAllowedAscii(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;        // no overlong
      if (c == 0xED) hi = 0x9F;        // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;        // no overlong
      if (c == 0xF4) hi = 0x8F;        // <= U+10FFFF
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int k = 2; k <= extra; ++k) {
      if (p[k] < 0x80 || p[k] > 0xBF) return false;
    }
    p += extra + 1;
  }
  return true;
}

absl::Status IdnaToAscii(absl::string_view host, std::string* out) {
  for (unsigned char c : host) {
    if (c < 0x80 && !IsAllowedAscii(c)) {
      return UrlError(UrlErrorKind::kInvalidIdn,
                      "internationalized host contains an ASCII character other than a letter, "
                      "digit, '-', '.' or '_'");
    }
  }
  if (NeedAgeCheck() && AssignedAfterUnicode15(host)) {
    return UrlError(UrlErrorKind::kInvalidIdn,
                    "host contains a code point not assigned in Unicode 15.0");
  }
  const UIDNA* idna = Uts46();
  if (idna == nullptr) {
    return UrlError(UrlErrorKind::kInvalidIdn, "ICU UTS #46 is unavailable");
  }
  if (host.size() > INT32_MAX / 8) {
    return UrlError(UrlErrorKind::kInvalidIdn, "host too long for IDNA");
  }
  int32_t capacity = static_cast<int32_t>(host.size()) * 4 + 64;
  for (int attempt = 0; attempt < 2; ++attempt) {
    out->resize(static_cast<size_t>(capacity));
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    UErrorCode status = U_ZERO_ERROR;
    const int32_t length =
        uidna_nameToASCII_UTF8(idna, host.data(), static_cast<int32_t>(host.size()), out->data(),
                               capacity, &info, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR && attempt == 0) {
      capacity = length + 1;
      continue;
    }
    if (U_FAILURE(status)) {
      out->clear();
      return UrlError(UrlErrorKind::kInvalidIdn,
                      absl::StrCat("ICU UTS #46 failed: ", u_errorName(status)));
    }
    out->resize(static_cast<size_t>(length));
    const uint32_t errors = info.errors & ~kAllowedIdnaErrors;
    if (errors != 0) {
      out->clear();
      return UrlError(UrlErrorKind::kInvalidIdn,
                      absl::StrCat("UTS #46 ToASCII rejects the host (ICU error bits 0x",
                                   absl::Hex(errors), ")"));
    }
    return absl::OkStatus();
  }
  out->clear();
  return UrlError(UrlErrorKind::kInvalidIdn, "ICU UTS #46 output size changed");
}

std::string IcuUnicodeVersion() {
  UVersionInfo version;
  u_getUnicodeVersion(version);
  return absl::StrCat(version[0], ".", version[1]);
}

}  // namespace optout::url
