// File: client/common/protocol/match_kind.h
//
// The one definition of how optout.v1.MatchKind values are named in
// human-facing and JSON output, and which kind wins when an item matches in
// several ways (the order documented on MatchKind in optout.proto).
// Pure functions; thread-safe.
#ifndef OPTOUT_CLIENT_COMMON_PROTOCOL_MATCH_KIND_H_
#define OPTOUT_CLIENT_COMMON_PROTOCOL_MATCH_KIND_H_

#include "optout/v1/optout.pb.h"

namespace optout::protocol {

// Number of MatchKind values including MATCH_KIND_NONE: arrays indexed by
// kind have this size.
inline constexpr int kMatchKindCount = v1::MatchKind_ARRAYSIZE;

// "url", "scope", "pdq", "sha256", "md5", or "none" for MATCH_KIND_NONE and
// any value this build does not know.
const char* MatchKindName(v1::MatchKind kind);
// The same for a kind held as an index (0..kMatchKindCount-1), e.g. of an
// array of counts per kind.
inline const char* MatchKindName(int kind) {
  return MatchKindName(static_cast<v1::MatchKind>(kind));
}

// The stronger of two kinds: URL > SCOPE > PDQ > SHA256 > MD5 > NONE, i.e.
// the lowest value other than NONE (the enum lists kinds strongest first).
// A result reports only the strongest kind an item matched; the server, the
// CLI and the dataset checker all fold kinds with this function. Why this
// order: service/DESIGN.md#strength-order.
inline v1::MatchKind StrongerMatchKind(v1::MatchKind a, v1::MatchKind b) {
  if (a == v1::MATCH_KIND_NONE) return b;
  if (b == v1::MATCH_KIND_NONE) return a;
  return a < b ? a : b;
}

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_MATCH_KIND_H_
