// File: client/common/url/url_error.h
//
// Error kinds of the URL canonicalization spec (§11) and of scope validation
// (§9). Errors are absl::InvalidArgumentError statuses whose message is
// "KIND_NAME: short reason"; the reason never contains the URL itself (the
// message is meant for logs). GetUrlErrorKind() recovers the kind.
#ifndef OPTOUT_CLIENT_COMMON_URL_URL_ERROR_H_
#define OPTOUT_CLIENT_COMMON_URL_URL_ERROR_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::url {

enum class UrlErrorKind {
  // Canonicalization (spec §11).
  kTooLong,
  kNulByte,
  kEmptyInput,
  kUnsupportedScheme,
  kMissingAuthority,
  kEmptyHost,
  kInvalidPort,
  kInvalidIpv4,
  kInvalidIpv6,
  kInvalidHost,
  kInvalidIdn,
  // Scope validation (spec §9).
  kScopePublicSuffix,
  kScopeTooDeepHost,
  kScopePathNoTrailingSlash,
  kScopePathTooDeep,
  kScopeHasQuery,
};

// "TOO_LONG", "NUL_BYTE", ..., "SCOPE_PUBLIC_SUFFIX", ...
absl::string_view UrlErrorKindName(UrlErrorKind kind);

// InvalidArgumentError("KIND_NAME: reason"). `reason` must not contain the URL.
absl::Status UrlError(UrlErrorKind kind, absl::string_view reason);

// The kind of a status made by UrlError(), or nullopt for any other status
// (including OK).
std::optional<UrlErrorKind> GetUrlErrorKind(const absl::Status& status);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_URL_ERROR_H_
