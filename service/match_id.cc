#include "service/match_id.h"

#include <algorithm>
#include <cstring>

#include "client/common/digest/digest.h"

namespace optout::service {
std::string MatchId(const HmacSha256& key, absl::string_view opt_out_id, v1::MatchKind kind,
                    absl::string_view item_ref) {
  // Always 49 bytes (a shorter reference is zero-padded), as FixedLengthPrf
  // requires; on the stack, since a check computes one per id it answers.
  char message[MatchIndex::kIdSize + 1 + 32] = {};
  std::memcpy(message, opt_out_id.data(), std::min(opt_out_id.size(), MatchIndex::kIdSize));
  message[MatchIndex::kIdSize] = static_cast<char>(kind);
  std::memcpy(message + MatchIndex::kIdSize + 1, item_ref.data(),
              std::min<size_t>(item_ref.size(), 32));
  const Mac32 mac = key.FixedLengthPrf(absl::string_view(message, sizeof(message)));
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(mac.data()), 16));
}

std::string PdqMatchId(const HmacSha256& key, absl::string_view opt_out_id, uint32_t position) {
  const char ref[2] = {static_cast<char>(position >> 8), static_cast<char>(position & 0xff)};
  return MatchId(key, opt_out_id, v1::MATCH_KIND_PDQ, absl::string_view(ref, 2));
}

std::vector<v1::RegisteredItem> RegisteredItemsOf(const HmacSha256& key,
                                                  const IndexedOptOut& opt_out) {
  std::vector<v1::RegisteredItem> items;
  items.reserve(opt_out.keys.size() + opt_out.pdq.size());
  int index_in_kind[8] = {};
  for (const IndexedOptOut::Key& k : opt_out.keys) {
    v1::RegisteredItem& item = items.emplace_back();
    item.set_kind(k.kind);
    item.set_index(index_in_kind[k.kind & 7]++);
    item.set_match_id(MatchId(
        key, opt_out.id, k.kind,
        absl::string_view(reinterpret_cast<const char*>(k.key.data()), k.key.size())));
  }
  for (uint32_t i = 0; i < opt_out.pdq.size(); ++i) {
    v1::RegisteredItem& item = items.emplace_back();
    item.set_kind(v1::MATCH_KIND_PDQ);
    item.set_index(static_cast<int32_t>(i));
    item.set_match_id(PdqMatchId(key, opt_out.id, i));
  }
  return items;
}

}  // namespace optout::service
