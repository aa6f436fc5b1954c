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

// "url", "url_any_query", "scope", "pdq", "sha256", "md5", or "none" for
// MATCH_KIND_NONE and any value this build does not know.
const char* MatchKindName(v1::MatchKind kind);
// The same for a kind held as an index (0..kMatchKindCount-1), e.g. of an
// array of counts per kind.
inline const char* MatchKindName(int kind) {
  return MatchKindName(static_cast<v1::MatchKind>(kind));
}

// Strength of a kind, strongest = 1: URL 1, URL_ANY_QUERY 2, SCOPE 3, PDQ 4,
// SHA256 5, MD5 6; NONE and unknown values 7. The enum values follow this
// order except URL_ANY_QUERY, which was added later (value 6), hence a table.
inline int MatchKindStrength(v1::MatchKind kind) {
  static constexpr int kStrength[] = {7, 1, 3, 4, 5, 6, 2};
  const int k = static_cast<int>(kind);
  return k >= 0 && k < static_cast<int>(sizeof(kStrength) / sizeof(kStrength[0])) ? kStrength[k]
                                                                                 : 7;
}

// The stronger of two kinds: URL > URL_ANY_QUERY > SCOPE > PDQ > SHA256 >
// MD5 > NONE. A result reports only the strongest kind an item matched; the
// server, the CLI and the dataset checker all fold kinds with this function.
// Why this order: service/DESIGN.md#strength-order.
inline v1::MatchKind StrongerMatchKind(v1::MatchKind a, v1::MatchKind b) {
  return MatchKindStrength(b) < MatchKindStrength(a) ? b : a;
}

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_MATCH_KIND_H_
