// File: client/common/url/url.h
//
// Umbrella header of optout_url: URL canonicalization, lookup expressions and
// scope keys as specified in URL_RULES.md (this folder). No gRPC.
//
//   auto psl = optout::url::PublicSuffixList::Load();          // once
//   absl::StatusOr<CanonicalUrl> url = Canonicalize(raw);      // per URL
//   std::vector<std::string> exprs = LookupExpressions(*url, **psl);
//
// Hot loops can use CanonicalizeInto + ComputeLookupExpressions with reused
// CanonicalUrl / ExpressionList objects, which then allocate nothing.
#ifndef OPTOUT_CLIENT_COMMON_URL_URL_H_
#define OPTOUT_CLIENT_COMMON_URL_URL_H_

#include "client/common/url/any_query.h"            // IWYU pragma: export
#include "client/common/url/canonicalize.h"         // IWYU pragma: export
#include "client/common/url/host_name_rule.h"       // IWYU pragma: export
#include "client/common/url/lookup_expressions.h"   // IWYU pragma: export
#include "client/common/url/public_suffix_list.h"   // IWYU pragma: export
#include "client/common/url/scope.h"                // IWYU pragma: export
#include "client/common/url/url_error.h"            // IWYU pragma: export

#endif  // OPTOUT_CLIENT_COMMON_URL_URL_H_
