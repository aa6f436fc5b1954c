// File: client/common/url/ipv6.h
//
// Bracketed IPv6 hosts (URL_RULES.md#ipv6-hosts): RFC 4291 text form in,
// RFC 5952 text out; IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96)
// become dotted quads.
#ifndef OPTOUT_CLIENT_COMMON_URL_IPV6_H_
#define OPTOUT_CLIENT_COMMON_URL_IPV6_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace optout::url {

using Ipv6Address = std::array<uint16_t, 8>;

// Parses the text between the brackets. No zone identifier, no brackets.
std::optional<Ipv6Address> ParseIpv6(absl::string_view text);

// Appends the canonical host for `address`: the dotted quad for mapped/NAT64
// addresses, else "[" RFC 5952 text "]".
void AppendCanonicalIpv6Host(const Ipv6Address& address, std::string* out);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_IPV6_H_
