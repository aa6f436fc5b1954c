// File: client/common/url/idna.h
//
// Internationalized hosts (URL_RULES.md#idna): strict UTF-8 validation and
// UTS #46 ToASCII with ICU, using the profile WHATWG uses for non-strict
// parsing.
#ifndef OPTOUT_CLIENT_COMMON_URL_IDNA_H_
#define OPTOUT_CLIENT_COMMON_URL_IDNA_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::url {

// Well-formed UTF-8 (shortest form, no surrogates, <= U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// UTS #46 ToASCII of a whole valid-UTF-8 host (nontransitional, CheckBidi,
// CheckJoiners, no STD3 rules, no hyphen/DNS-length checks). Also applies the
// pre-check of URL_RULES.md#idna (ASCII bytes only letters, digits, '-', '.',
// '_') and rejects code points assigned after Unicode 15.0 (the pinned version)
// when a newer ICU is in use. Errors are INVALID_IDN. The output is not
// dot-cleaned and not yet checked against the post-check of URL_RULES.md#idna
// (the caller does both).
absl::Status IdnaToAscii(absl::string_view utf8_host, std::string* out);

// The Unicode version of the ICU library in use, e.g. "15.0".
std::string IcuUnicodeVersion();

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_IDNA_H_
