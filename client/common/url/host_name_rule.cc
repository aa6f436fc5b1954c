#include "client/common/url/host_name_rule.h"

#include "client/common/url/url_error.h"

namespace optout::url {

absl::Status CheckHostName(const CanonicalUrl& url) {
  if (url.host_is_ip) return absl::OkStatus();
  // The canonical host is lowercase, so upper-case letters never reach here.
  for (const char c : url.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.';
    if (!ok) {
      return UrlError(UrlErrorKind::kNotAHostName,
                      "the host holds a character no DNS name has (space, '%', control byte, "
                      "...): not a URL");
    }
  }
  return absl::OkStatus();
}

}  // namespace optout::url
