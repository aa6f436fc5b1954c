// File: client/common/url/url_error.h
//
// Error kinds of URL canonicalization (URL_RULES.md#errors), of scope and
// any-query URL validation (URL_RULES.md#exact-urls-and-scopes) and of the
// host-name rule for URLs to check (host_name_rule.h). Errors are
// absl::InvalidArgumentError statuses whose message is "KIND_NAME: short
// reason"; the reason never contains the URL itself (the message is meant for
// logs). GetUrlErrorKind() recovers the kind.
#ifndef OPTOUT_CLIENT_COMMON_URL_URL_ERROR_H_
#define OPTOUT_CLIENT_COMMON_URL_URL_ERROR_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace optout::url {

enum class UrlErrorKind {
  // Canonicalization (URL_RULES.md#errors).
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
  // Scope validation (URL_RULES.md#exact-urls-and-scopes).
  kScopePublicSuffix,
  kScopeTooDeepHost,
  kScopePathNoTrailingSlash,
  kScopePathTooDeep,
  kScopeHasQuery,
  // Inputs to check (host_name_rule.h): the host cannot be a DNS name.
  kNotAHostName,
  // Any-query URL for registration (any_query.h): the path is "/".
  kAnyQueryRootPath,
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
