#include "client/common/url/any_query.h"

#include "absl/strings/str_cat.h"
#include "client/common/url/url_error.h"

namespace optout::url {

absl::StatusOr<std::string> AnyQueryExpression(const CanonicalUrl& url) {
  if (url.path == "/") {
    return UrlError(UrlErrorKind::kAnyQueryRootPath,
                    "an any-query URL names a page or file, not \"/\" (to opt out a whole "
                    "host register a scope)");
  }
  return absl::StrCat(url.host, url.path);
}

}  // namespace optout::url
