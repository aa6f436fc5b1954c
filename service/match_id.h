// File: service/match_id.h
//
// Public match ids (issue 10, unlinkable answers). A check names the
// registered *item* it matched, never the opt-out: each item's id is a keyed
// hash of its opt-out id and the item, so the ids of one person's URL and of
// her photo cannot be joined by a checker, while the same item always
// answers with the same id (published reports stay comparable, and the
// owner finds her ids on her receipt and in Get).
//
//   match id = hex(first 16 bytes of PRF(match-id key,
//                  opt-out id || kind || item reference))
//
// PRF is HmacSha256::FixedLengthPrf over always 49 bytes (one SHA-256
// compression: answers with 16 ids per item made a full HMAC per id double
// a check's CPU).
//
// The item reference is what the serving index already holds for it: the
// keyed digest (32 bytes) for URL, SCOPE, SHA256 and MD5 items, and the
// position among the opt-out's PDQ hashes (2 bytes) for PDQ. Nothing is
// stored for match ids; a check computes one PRF per id it returns.
#ifndef OPTOUT_SERVICE_MATCH_ID_H_
#define OPTOUT_SERVICE_MATCH_ID_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "optout/v1/optout.pb.h"
#include "service/hmac_sha256.h"
#include "service/match_index.h"

namespace optout::service {

// `opt_out_id`: 16 raw bytes; `item_ref`: 32-byte keyed digest (key kinds).
std::string MatchId(const HmacSha256& key, absl::string_view opt_out_id, v1::MatchKind kind,
                    absl::string_view item_ref);
// The same for the PDQ hash at `position` of the opt-out.
std::string PdqMatchId(const HmacSha256& key, absl::string_view opt_out_id, uint32_t position);

// Every item of `opt_out` with its match id: keyed items in stored order
// (URL, SCOPE, SHA256, MD5), then PDQ hashes; `index` counts within a kind.
std::vector<v1::RegisteredItem> RegisteredItemsOf(const HmacSha256& key,
                                                  const IndexedOptOut& opt_out);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_MATCH_ID_H_
