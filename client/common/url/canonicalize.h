// File: client/common/url/canonicalize.h
//
// URL canonicalization (URL_RULES.md, #pre-checks to #escaping): raw bytes ->
// canonical URL.
#ifndef OPTOUT_CLIENT_COMMON_URL_CANONICALIZE_H_
#define OPTOUT_CLIENT_COMMON_URL_CANONICALIZE_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::url {

// Limit on the raw input and on the canonical URL, in bytes (inclusive).
inline constexpr size_t kMaxUrlLength = 8192;

// A canonical URL. host, path and query are exactly as they appear in the
// canonical URL (escaped per URL_RULES.md#escaping, printable ASCII only).
struct CanonicalUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // domain name, dotted-quad IPv4 or "[...]" IPv6
  std::string path;    // starts with '/'
  std::string query;   // without the '?'
  bool has_query = false;  // a '?' was present (the query may be empty)
  bool host_is_ip = false;  // IPv4 or IPv6 host (no PSL suffixes)

  // scheme "://" host path ["?" query]
  std::string ToString() const;
  // host path ["?" query when the query is non-empty]: the exact-URL key
  // (URL_RULES.md#exact-urls-and-scopes).
  std::string ExactExpression() const;
  // Appending forms of the above (no allocation when `out` has capacity).
  void AppendTo(std::string* out) const;
  void AppendExactExpressionTo(std::string* out) const;

  bool operator==(const CanonicalUrl& other) const {
    return scheme == other.scheme && host == other.host && path == other.path &&
           query == other.query && has_query == other.has_query &&
           host_is_ip == other.host_is_ip;
  }
  bool operator!=(const CanonicalUrl& other) const { return !(*this == other); }
};

// Canonicalizes `raw` (any bytes). Errors carry a UrlErrorKind (url_error.h).
absl::StatusOr<CanonicalUrl> Canonicalize(absl::string_view raw);

// Same, into `*out`, reusing its string capacity (the allocation-free form for
// hot loops). On error `*out` holds unspecified partial contents.
absl::Status CanonicalizeInto(absl::string_view raw, CanonicalUrl* out);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_CANONICALIZE_H_
