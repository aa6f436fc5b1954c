#include "client/common/url/scope.h"

#include "absl/strings/str_cat.h"
#include "client/common/url/url_error.h"

namespace optout::url {

absl::StatusOr<std::string> ScopeExpression(const CanonicalUrl& url, const PublicSuffixList& psl) {
  if (!url.host_is_ip) {
    const int k = psl.RegistrableDomainLabels(url.host);
    if (k == 0) {
      return UrlError(UrlErrorKind::kScopePublicSuffix,
                      "the scope host is a public suffix and cannot be opted out as a whole");
    }
    int n = 1;
    for (char c : url.host) n += c == '.';
    if (n - k > kMaxScopeExtraHostLabels) {
      return UrlError(UrlErrorKind::kScopeTooDeepHost,
                      absl::StrCat("the scope host is ", n - k,
                                   " labels deeper than its registrable domain; at most ",
                                   kMaxScopeExtraHostLabels, " are matched"));
    }
  }
  if (url.has_query) {
    return UrlError(UrlErrorKind::kScopeHasQuery, "a scope carries no query");
  }
  if (url.path.empty() || url.path.back() != '/') {
    return UrlError(UrlErrorKind::kScopePathNoTrailingSlash,
                    "a path scope must end in '/' (without it only that exact path matches)");
  }
  int segments = 0;
  for (size_t i = 1; i < url.path.size(); ++i) {
    if (url.path[i - 1] == '/' && url.path[i] != '/') ++segments;
  }
  if (segments > kMaxScopePathSegments) {
    return UrlError(UrlErrorKind::kScopePathTooDeep,
                    absl::StrCat("the scope path has ", segments, " segments; at most ",
                                 kMaxScopePathSegments, " are matched"));
  }
  return absl::StrCat(url.host, url.path);
}

}  // namespace optout::url
