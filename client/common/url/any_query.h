// File: client/common/url/any_query.h
//
// The key of an any-query URL ("this path, any query";
// URL_RULES.md#exact-urls-and-scopes): the URL's exact expression with the
// query dropped. It is the first lookup expression of the same path without
// a query and the second of it with any non-empty query, which is how the
// server matches it without an extra lookup.
#ifndef OPTOUT_CLIENT_COMMON_URL_ANY_QUERY_H_
#define OPTOUT_CLIENT_COMMON_URL_ANY_QUERY_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/common/url/canonicalize.h"

namespace optout::url {

// Position of the any-query key among a URL's lookup expressions
// (ComputeLookupExpressions): 0 without a query (or with an empty one), 1
// with a non-empty query.
inline size_t AnyQueryExpressionIndex(const CanonicalUrl& url) {
  return url.has_query && !url.query.empty() ? 1 : 0;
}

// host + path of `url` (from Canonicalize). ANY_QUERY_ROOT_PATH when the
// path is "/": the second expression of every query-less URL on the host is
// "host/", so such a key would match the whole host (a scope's job).
absl::StatusOr<std::string> AnyQueryExpression(const CanonicalUrl& url);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_ANY_QUERY_H_
