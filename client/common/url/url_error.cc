#include "client/common/url/url_error.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace optout::url {
namespace {

constexpr UrlErrorKind kAllKinds[] = {
    UrlErrorKind::kTooLong,           UrlErrorKind::kNulByte,
    UrlErrorKind::kEmptyInput,        UrlErrorKind::kUnsupportedScheme,
    UrlErrorKind::kMissingAuthority,  UrlErrorKind::kEmptyHost,
    UrlErrorKind::kInvalidPort,       UrlErrorKind::kInvalidIpv4,
    UrlErrorKind::kInvalidIpv6,       UrlErrorKind::kInvalidHost,
    UrlErrorKind::kInvalidIdn,        UrlErrorKind::kScopePublicSuffix,
    UrlErrorKind::kScopeTooDeepHost,  UrlErrorKind::kScopePathNoTrailingSlash,
    UrlErrorKind::kScopePathTooDeep,  UrlErrorKind::kScopeHasQuery,
    UrlErrorKind::kNotAHostName,      UrlErrorKind::kAnyQueryRootPath,
};

}  // namespace

absl::string_view UrlErrorKindName(UrlErrorKind kind) {
  switch (kind) {
    case UrlErrorKind::kTooLong: return "TOO_LONG";
    case UrlErrorKind::kNulByte: return "NUL_BYTE";
    case UrlErrorKind::kEmptyInput: return "EMPTY_INPUT";
    case UrlErrorKind::kUnsupportedScheme: return "UNSUPPORTED_SCHEME";
    case UrlErrorKind::kMissingAuthority: return "MISSING_AUTHORITY";
    case UrlErrorKind::kEmptyHost: return "EMPTY_HOST";
    case UrlErrorKind::kInvalidPort: return "INVALID_PORT";
    case UrlErrorKind::kInvalidIpv4: return "INVALID_IPV4";
    case UrlErrorKind::kInvalidIpv6: return "INVALID_IPV6";
    case UrlErrorKind::kInvalidHost: return "INVALID_HOST";
    case UrlErrorKind::kInvalidIdn: return "INVALID_IDN";
    case UrlErrorKind::kScopePublicSuffix: return "SCOPE_PUBLIC_SUFFIX";
    case UrlErrorKind::kScopeTooDeepHost: return "SCOPE_TOO_DEEP_HOST";
    case UrlErrorKind::kScopePathNoTrailingSlash: return "SCOPE_PATH_NO_TRAILING_SLASH";
    case UrlErrorKind::kScopePathTooDeep: return "SCOPE_PATH_TOO_DEEP";
    case UrlErrorKind::kScopeHasQuery: return "SCOPE_HAS_QUERY";
    case UrlErrorKind::kNotAHostName: return "NOT_A_HOST_NAME";
    case UrlErrorKind::kAnyQueryRootPath: return "ANY_QUERY_ROOT_PATH";
  }
  return "UNKNOWN";
}

absl::Status UrlError(UrlErrorKind kind, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(UrlErrorKindName(kind), ": ", reason));
}

std::optional<UrlErrorKind> GetUrlErrorKind(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return std::nullopt;
  const absl::string_view message = status.message();
  for (UrlErrorKind kind : kAllKinds) {
    const absl::string_view name = UrlErrorKindName(kind);
    if (message.size() > name.size() && absl::StartsWith(message, name) &&
        message[name.size()] == ':') {
      return kind;
    }
  }
  return std::nullopt;
}

}  // namespace optout::url
