#include "client/common/protocol/match_kind.h"

namespace optout::protocol {

const char* MatchKindName(v1::MatchKind kind) {
  switch (kind) {
    case v1::MATCH_KIND_URL:
      return "url";
    case v1::MATCH_KIND_URL_ANY_QUERY:
      return "url_any_query";
    case v1::MATCH_KIND_SCOPE:
      return "scope";
    case v1::MATCH_KIND_PDQ:
      return "pdq";
    case v1::MATCH_KIND_SHA256:
      return "sha256";
    case v1::MATCH_KIND_MD5:
      return "md5";
    default:
      return "none";
  }
}

}  // namespace optout::protocol
