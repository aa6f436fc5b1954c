// File: client/common/url/ipv4.h
//
// IPv4 host rules of URL_RULES.md#ipv4-hosts (WHATWG "ends in a number" test,
// 1-4 parts in decimal, octal or hex, saturating arithmetic).
#ifndef OPTOUT_CLIENT_COMMON_URL_IPV4_H_
#define OPTOUT_CLIENT_COMMON_URL_IPV4_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace optout::url {

// One or more ASCII digits, or 0x/0X followed by zero or more hex digits.
bool IsNumericLabel(absl::string_view label);

// True when the last label of `host` (already dot-cleaned) is numeric.
bool LastLabelIsNumeric(absl::string_view host);

// Parses a dot-cleaned, lowercased host as an IPv4 address
// (URL_RULES.md#ipv4-hosts steps 1-4).
std::optional<uint32_t> ParseIpv4(absl::string_view host);

// Appends the dotted-quad form of `address`.
void AppendIpv4(uint32_t address, std::string* out);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_IPV4_H_
