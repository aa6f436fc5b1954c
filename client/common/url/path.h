// File: client/common/url/path.h
//
// Path canonicalization (URL_RULES.md#paths) fused with re-escaping
// (URL_RULES.md#escaping).
#ifndef OPTOUT_CLIENT_COMMON_URL_PATH_H_
#define OPTOUT_CLIENT_COMMON_URL_PATH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace optout::url {

// Appends the canonical, escaped form of the percent-decoded `path` (empty or
// starting with '/' or '\'; every '\' counts as '/') to `out`: empty pieces
// and "." dropped, ".." pops (never above the root), a trailing '/' kept when
// the last piece was empty, "." or "..".
void AppendCanonicalPath(absl::string_view path, std::string* out);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_PATH_H_
