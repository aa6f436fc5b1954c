#include "client/cli/cli_util.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "client/pdq/pdq_hash.h"

namespace optout::cli {

void ReportError(CommandContext& ctx, absl::string_view command, const absl::Status& status) {
  std::string message(status.message());
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::fprintf(stderr, "optout %s: %s [%s]\n", std::string(command).c_str(), message.c_str(),
               absl::StatusCodeToString(status.code()).c_str());
  ctx.exit_code = 1;
}

absl::StatusOr<std::string> PdqWireBytesFromHex(absl::string_view hex) {
  auto hash = pdq::PdqHash::FromHex(hex);
  if (!hash.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--pdq: ", hash.status().message()));
  }
  return std::string(hash->bytes.begin(), hash->bytes.end());
}

absl::StatusOr<std::string> DigestFromHex(absl::string_view flag, absl::string_view hex,
                                          size_t bytes) {
  auto parsed = digest::FromHex(hex, bytes);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", parsed.status().message()));
  }
  return *parsed;
}

std::string MatchKindName(v1::MatchKind kind) {
  switch (kind) {
    case v1::MATCH_KIND_URL: return "url";
    case v1::MATCH_KIND_SCOPE: return "scope";
    case v1::MATCH_KIND_PDQ: return "pdq";
    case v1::MATCH_KIND_SHA256: return "sha256";
    case v1::MATCH_KIND_MD5: return "md5";
    default: return "none";
  }
}

std::string NewRequestId() {
  uint8_t bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace optout::cli
