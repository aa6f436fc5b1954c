// File: client/common/url/host.h
//
// Host canonicalization (URL_RULES.md#hosts): bracketed IPv6, dot clean-up,
// IDNA, lowercasing, the numeric-last-label IPv4 rule.
#ifndef OPTOUT_CLIENT_COMMON_URL_HOST_H_
#define OPTOUT_CLIENT_COMMON_URL_HOST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::url {

// Appends `host` to `out` with leading/trailing '.' removed and runs of '.'
// shrunk to one (URL_RULES.md#host-names step 1).
void AppendDotCleaned(absl::string_view host, std::string* out);

// Canonicalizes a percent-decoded host (userinfo and port already removed;
// a bracketed host includes its brackets). Writes the canonical host, NOT yet
// escaped (URL_RULES.md#escaping), to `out` (replacing its contents) and sets
// `*is_ip` for IPv4 and IPv6 results. `scratch` is working space.
absl::Status CanonicalizeHost(absl::string_view host, std::string* out, bool* is_ip,
                              std::string* scratch);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_HOST_H_
