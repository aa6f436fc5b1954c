// File: client/common/url/scope.h
//
// Scope validation for registration and the scope key
// (URL_RULES.md#exact-urls-and-scopes).
#ifndef OPTOUT_CLIENT_COMMON_URL_SCOPE_H_
#define OPTOUT_CLIENT_COMMON_URL_SCOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/common/url/canonicalize.h"
#include "client/common/url/public_suffix_list.h"

namespace optout::url {

// A scope host may be at most this many labels deeper than its registrable
// domain; a scope path may have at most this many segments.
inline constexpr int kMaxScopeExtraHostLabels = 3;
inline constexpr int kMaxScopePathSegments = 3;

// Validates `url` as a scope and returns its key: host + "/" for a host scope,
// host + path (ending in '/') for a path-prefix scope. Errors (UrlErrorKind):
//  SCOPE_PUBLIC_SUFFIX            the host is a public suffix (not for IPs)
//  SCOPE_TOO_DEEP_HOST            host deeper than eTLD+1 + 3 labels
//  SCOPE_HAS_QUERY                a '?' is present, even with an empty query
//  SCOPE_PATH_NO_TRAILING_SLASH   the path does not end in '/'
//  SCOPE_PATH_TOO_DEEP            more than three path segments
// Every key it returns is one of the lookup expressions of any URL that the
// scope should match (and of the scope URL itself).
absl::StatusOr<std::string> ScopeExpression(const CanonicalUrl& url, const PublicSuffixList& psl);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_SCOPE_H_
