#include "client/cli/cli_util.h"

#include <openssl/rand.h>

#include "client/common/digest/digest.h"

namespace optout::cli {

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
