#include "service/checker.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/match_kind.h"
#include "client/common/protocol/packed_items.h"
#include "client/common/protocol/url_digests.h"
#include "service/distinct_digests.h"
#include "service/match_id.h"
#include "service/validation.h"

namespace optout::service {
namespace {

using protocol::kPdqBytes;
using protocol::kUrlDigestBytes;
using protocol::PackedItemBytes;
using protocol::PackedItemCount;

// How often a check asks its interrupt: every this many typed items while
// planning (URL canonicalization ~1 us each) and PDQ queries while searching
// (up to milliseconds each against a dense index).
constexpr int kInterruptEveryItems = 512;
constexpr size_t kInterruptEveryCodes = 1024;

// Which stored kinds a looked-up key may match.
enum Accept : uint8_t {
  kAcceptUrlOrScope = 1,       // a URL's exact expression: URL, URL_ANY_QUERY, SCOPE
  kAcceptScope = 2,            // its third and later expressions
  kAcceptSha256 = 3,
  kAcceptMd5 = 4,
  kAcceptScopeOrAnyQuery = 5,  // its second expression: URL_ANY_QUERY, SCOPE
};

// Any-query URLs (DESIGN.md#matching) are keyed by the expression without
// the query, which is a URL's exact expression when it has no query and its
// second expression when it has one (URL_RULES.md#lookup-expressions). The
// second expression of a URL without a query is "host/", which registration
// never accepts as an any-query URL, so digest clients need not say whether
// a query was present, and a check costs no extra lookup.
Accept AcceptAt(size_t expression_index) {
  return expression_index == 0   ? kAcceptUrlOrScope
         : expression_index == 1 ? kAcceptScopeOrAnyQuery
                                 : kAcceptScope;
}

bool Accepts(Accept accept, v1::MatchKind kind) {
  switch (accept) {
    case kAcceptUrlOrScope:
      return kind == v1::MATCH_KIND_URL || kind == v1::MATCH_KIND_SCOPE ||
             kind == v1::MATCH_KIND_URL_ANY_QUERY;
    case kAcceptScope:
      return kind == v1::MATCH_KIND_SCOPE;
    case kAcceptScopeOrAnyQuery:
      return kind == v1::MATCH_KIND_SCOPE || kind == v1::MATCH_KIND_URL_ANY_QUERY;
    case kAcceptSha256:
      return kind == v1::MATCH_KIND_SHA256;
    case kAcceptMd5:
      return kind == v1::MATCH_KIND_MD5;
  }
  return false;
}

// PDQ hits one item may take before its search stops even with fewer than
// 16 opt-outs found: one opt-out may hold thousands of near-identical hashes
// (an attacker's cluster), and each hit costs work. The answer stays right
// (matched, kind); it then names the opt-outs found first.
constexpr uint32_t kMaxPdqHitsPerItem = 1024;

// Per-item outcome while a request is being answered. At most `max_ids`
// distinct handles are kept (an answer carries no more ids), so the work per
// item stays bounded however many opt-outs share a key or a cluster. For
// each handle, `refs` says which of its registered items matched (the
// strongest), to name that item's match id.
struct ItemRef {
  v1::MatchKind kind;
  uint32_t ref;  // index of the looked-up key in the plan, or PDQ position
};

struct ItemMatch {
  v1::MatchKind kind = v1::MATCH_KIND_NONE;
  uint32_t pdq_hits = 0;
  absl::InlinedVector<uint64_t, 2> handles;
  absl::InlinedVector<ItemRef, 2> refs;

  void Add(v1::MatchKind k, uint64_t handle, uint32_t ref, size_t max_ids) {
    kind = protocol::StrongerMatchKind(kind, k);
    auto it = std::find(handles.begin(), handles.end(), handle);
    if (it != handles.end()) {
      ItemRef& held = refs[it - handles.begin()];
      if (k != held.kind && protocol::StrongerMatchKind(held.kind, k) == k) held = {k, ref};
      return;
    }
    if (handles.size() < max_ids) {
      handles.push_back(handle);
      refs.push_back({k, ref});
    }
  }
  bool Full(size_t max_ids) const {
    return handles.size() >= max_ids || pdq_hits >= kMaxPdqHitsPerItem;
  }
  // As a fresh ItemMatch, field by field (a new field must be reset here).
  void Clear() {
    kind = v1::MATCH_KIND_NONE;
    pdq_hits = 0;
    handles.clear();
    refs.clear();
  }
};

// Takes PDQ hits straight into the items' matches; a query is no longer
// wanted once its item holds the most ids an answer can carry (or has used
// its hit budget).
class PdqSink final : public storage::HitSink {
 public:
  // code_item[q]: the item of query q of the searched batch.
  PdqSink(absl::Span<const uint32_t> code_item, std::vector<ItemMatch>& matches,
          size_t max_ids)
      : code_item_(code_item), matches_(matches), max_ids_(max_ids) {}

  bool Wants(size_t q) const override { return !matches_[code_item_[q]].Full(max_ids_); }
  bool Hit(size_t q, uint64_t entry) override {
    ItemMatch& m = matches_[code_item_[q]];
    ++m.pdq_hits;
    m.Add(v1::MATCH_KIND_PDQ, MatchIndex::HandleOfPdqEntry(entry),
          static_cast<uint32_t>(MatchIndex::PdqPositionOfEntry(entry)), max_ids_);
    return !m.Full(max_ids_);
  }

 private:
  const absl::Span<const uint32_t> code_item_;
  std::vector<ItemMatch>& matches_;
  const size_t max_ids_;
};

// Everything to look up for one request, flattened across items.
struct LookupPlan {
  std::vector<storage::Key32> keys;
  std::vector<uint32_t> key_item;
  std::vector<Accept> key_accept;
  // Which keyring made keys[i] (1: KeySet::previous); filled only while a
  // rotation runs, so the usual check pays nothing for it.
  std::vector<uint8_t> key_ring;
  // Normal PDQ hashes, and low-quality ones (PdqHash.quality below
  // --min_pdq_quality, PackedItems.pdq_low_quality, and regions by their
  // own quality too: PdqHash.region_quality,
  // PackedItems.pdq_region_low_quality), which match only within
  // --low_quality_pdq_distance.
  std::vector<storage::Code256> codes;
  std::vector<uint32_t> code_item;
  std::vector<storage::Code256> low_codes;
  std::vector<uint32_t> low_code_item;

  void AddKey(const Mac32& key, uint32_t item, Accept accept) {
    keys.push_back(key);
    key_item.push_back(item);
    key_accept.push_back(accept);
  }
  void AddCode(absl::string_view bytes32, uint32_t item, bool low_quality) {
    (low_quality ? low_codes : codes).push_back(storage::CodeFromBytes(bytes32));
    (low_quality ? low_code_item : code_item).push_back(item);
  }
  // A variant or region of an item equal to its plain hash finds nothing
  // the plain hash's search did not (in the same tier or a stricter one),
  // and clients send the dihedral identity as the first variant: searched
  // once, not twice.
  void AddCodeUnlessPlain(absl::string_view bytes32, absl::string_view plain, uint32_t item,
                          bool low_quality) {
    if (bytes32 != plain) AddCode(bytes32, item, low_quality);
  }
  void Clear() {
    keys.clear();
    key_item.clear();
    key_accept.clear();
    key_ring.clear();
    codes.clear();
    code_item.clear();
    low_codes.clear();
    low_code_item.clear();
  }
};

// Per-thread buffers of a request run. A 10,000-URL batch plans ~100,000
// keys (3 MB); reusing the buffers avoids mapping and faulting in fresh
// pages for every batch.
struct RunBuffers {
  LookupPlan plan;
  std::vector<ItemMatch> matches;
};

RunBuffers& ThreadRunBuffers() {
  thread_local RunBuffers buffers;
  return buffers;
}

}  // namespace

namespace {

class RequestRun {
 public:
  RequestRun(const KeySet& keys, const url::PublicSuffixList& psl, const MatchIndex& index,
             const RegistryOptions& options)
      : keyring_(*keys.current),
        previous_(keys.previous.get()),
        psl_(psl),
        index_(index),
        options_(options),
        plan_(ThreadRunBuffers().plan),
        matches_(ThreadRunBuffers().matches) {
    plan_.Clear();
  }

  absl::Status PlanItem(uint32_t item, const v1::CheckItem& in, size_t field_index) {
    switch (in.kind_case()) {
      case v1::CheckItem::kUrl:
        return PlanUrl(item, in.url(), field_index);
      case v1::CheckItem::kUrlDigests:
        AddUrlKey(in.url_digests().exact(), item, AcceptAt(0));
        for (int j = 0; j < in.url_digests().expressions_size(); ++j) {
          AddUrlKey(in.url_digests().expressions(j), item, AcceptAt(j + 1));
        }
        return absl::OkStatus();
      case v1::CheckItem::kPdq: {
        const v1::PdqHash& pdq = in.pdq();
        const bool low = pdq.has_quality() && IsLowQualityPdq(options_, pdq.quality());
        plan_.AddCode(pdq.hash(), item, low);
        for (const auto& d : pdq.dihedral()) plan_.AddCodeUnlessPlain(d, pdq.hash(), item, low);
        // A region is low-quality when the item is, or when its own
        // quality, if given (validated: one per region), is.
        const bool region_tiers = pdq.region_quality_size() > 0;
        // A region's mirror (validated: none, or one per region) is searched
        // in its region's tier.
        const bool mirrors = pdq.region_mirrors_size() > 0;
        for (int r = 0; r < pdq.regions_size(); ++r) {
          const bool region_low =
              low || (region_tiers && IsLowQualityPdq(options_, pdq.region_quality(r)));
          plan_.AddCodeUnlessPlain(pdq.regions(r), pdq.hash(), item, region_low);
          if (mirrors) plan_.AddCodeUnlessPlain(pdq.region_mirrors(r), pdq.hash(), item, region_low);
        }
        return absl::OkStatus();
      }
      case v1::CheckItem::kSha256:
        AddFileKey(in.sha256(), item, kAcceptSha256);
        return absl::OkStatus();
      case v1::CheckItem::kMd5:
        AddFileKey(in.md5(), item, kAcceptMd5);
        return absl::OkStatus();
      case v1::CheckItem::KIND_NOT_SET:
        break;
    }
    return absl::InvalidArgumentError(absl::StrCat("items[", field_index, "]: empty item"));
  }

  void Reserve(size_t keys) {
    plan_.keys.reserve(keys);
    plan_.key_item.reserve(keys);
    plan_.key_accept.reserve(keys);
  }

  void PlanPacked(uint32_t first_item, const v1::PackedItems& packed) {
    const absl::string_view data = packed.data();
    const size_t unit = PackedItemBytes(packed);
    const size_t n = PackedItemCount(packed);
    if (packed.kind() != v1::PackedItems::KIND_PDQ) {
      Reserve((plan_.keys.size() + data.size() / unit) * (previous_ != nullptr ? 2 : 1));
    }
    switch (packed.kind()) {
      case v1::PackedItems::KIND_URL_DIGESTS: {
        // Validated: the counts add up to data.size() / kUrlDigestBytes.
        const KeyedDigests keyed = KeyAll(data, kUrlDigestBytes, &Keyring::url_key, true);
        const std::vector<bool>* present = PresentKeys(keyed);
        size_t d = 0;
        for (size_t i = 0; i < n; ++i) {
          const size_t count = packed.counts_size() > 0 ? packed.counts(i) : 1;
          for (size_t j = 0; j < count; ++j, ++d) {
            if (present != nullptr && !(*present)[keyed.at(d)]) continue;
            AddKeyed(keyed, d, first_item + i, AcceptAt(j));
          }
        }
        break;
      }
      case v1::PackedItems::KIND_SHA256:
      case v1::PackedItems::KIND_MD5: {
        const Accept accept =
            packed.kind() == v1::PackedItems::KIND_SHA256 ? kAcceptSha256 : kAcceptMd5;
        const KeyedDigests keyed = KeyAll(data, unit, &Keyring::file_key);
        for (size_t i = 0; i < n; ++i) AddKeyed(keyed, i, first_item + i, accept);
        break;
      }
      case v1::PackedItems::KIND_PDQ: {
        const std::string& low_bits = packed.pdq_low_quality();  // validated: empty or n bits
        auto low = [&low_bits](size_t i) {
          return !low_bits.empty() && (static_cast<uint8_t>(low_bits[i / 8]) >> (i % 8) & 1) != 0;
        };
        if (packed.counts_size() > 0) {  // each item followed by its regions
          // A region is low-quality when its item is, or when its bit in
          // pdq_region_low_quality (validated: empty or one per region) is set.
          const std::string& region_bits = packed.pdq_region_low_quality();
          size_t region = 0;
          size_t off = 0;
          for (size_t i = 0; i < n; ++i) {
            const size_t own_end = off + unit;
            const size_t end = own_end + packed.counts(i) * kPdqBytes;
            const bool low_quality = low(i);
            const absl::string_view plain = data.substr(off, kPdqBytes);
            plan_.AddCode(plain, first_item + i, low_quality);
            for (off += kPdqBytes; off < own_end; off += kPdqBytes) {
              plan_.AddCodeUnlessPlain(data.substr(off, kPdqBytes), plain, first_item + i,
                                       low_quality);
            }
            for (; off < end; off += kPdqBytes, ++region) {
              const bool region_low =
                  low_quality ||
                  (!region_bits.empty() &&
                   (static_cast<uint8_t>(region_bits[region / 8]) >> (region % 8) & 1) != 0);
              plan_.AddCodeUnlessPlain(data.substr(off, kPdqBytes), plain, first_item + i,
                                       region_low);
            }
          }
          break;
        }
        for (size_t off = 0; off < data.size(); off += unit) {
          const size_t i = off / unit;
          const absl::string_view plain = data.substr(off, kPdqBytes);
          plan_.AddCode(plain, first_item + i, low(i));
          for (size_t v = off + kPdqBytes; v < off + unit; v += kPdqBytes) {
            plan_.AddCodeUnlessPlain(data.substr(v, kPdqBytes), plain, first_item + i, low(i));
          }
        }
        break;
      }
      default:
        break;
    }
  }

  // Runs every lookup of the plan; fills one ItemMatch per item. PDQ
  // queries, the costly part, are searched in chunks with `interrupt` asked
  // between them.
  absl::Status Execute(size_t item_count, const CheckInterrupt& interrupt) {
    // Reset in place: assign(item_count, ItemMatch()) copied two
    // InlinedVectors per item through their out-of-line Assign, ~2 % of
    // optoutd's CPU per Parquet row (an item a URL and one an md5).
    matches_.resize(item_count);
    for (ItemMatch& m : matches_) m.Clear();
    // A key's values are sorted with the strongest kind first (MatchIndex),
    // so the first max_ids values of the accepted kinds are the whole answer
    // for that key: the work per key is bounded however many share it.
    const size_t max_ids = static_cast<size_t>(std::max(options_.max_ids_per_result, 1));
    index_.keys().LookupMany(plan_.keys, [&](size_t i, absl::Span<const uint64_t> values) {
      const Accept accept = plan_.key_accept[i];
      auto it = values.begin();
      if (values.size() > 1 && (accept == kAcceptScope || accept == kAcceptScopeOrAnyQuery)) {
        // Skip the stronger kinds this expression may not match (URL, and
        // for kAcceptScope URL_ANY_QUERY), which sort first under a key.
        it = std::lower_bound(values.begin(), values.end(),
                              MatchIndex::KeyValue(0, accept == kAcceptScope
                                                          ? v1::MATCH_KIND_SCOPE
                                                          : v1::MATCH_KIND_URL_ANY_QUERY));
      }
      ItemMatch& m = matches_[plan_.key_item[i]];
      for (size_t seen = 0; it != values.end() && seen < max_ids; ++it, ++seen) {
        const v1::MatchKind kind = MatchIndex::KindOfKeyValue(*it);
        if (!Accepts(accept, kind)) break;  // later values are weaker kinds still
        m.Add(kind, MatchIndex::HandleOfKeyValue(*it), static_cast<uint32_t>(i), max_ids);
      }
    });
    // A pair with a low-quality side, the checked hash's or the stored
    // one's, matches only within the stricter distance (README.md#matching).
    const int low_distance = std::min(options_.low_quality_pdq_distance, options_.pdq_threshold);
    OPTOUT_RETURN_IF_ERROR(Search(index_.pdq(), plan_.codes, plan_.code_item,
                                  options_.pdq_threshold, max_ids, interrupt));
    OPTOUT_RETURN_IF_ERROR(Search(index_.pdq(), plan_.low_codes, plan_.low_code_item,
                                  low_distance, max_ids, interrupt));
    if (index_.low_quality_pdq().size() > 0) {
      OPTOUT_RETURN_IF_ERROR(Search(index_.low_quality_pdq(), plan_.codes, plan_.code_item,
                                    low_distance, max_ids, interrupt));
      OPTOUT_RETURN_IF_ERROR(Search(index_.low_quality_pdq(), plan_.low_codes,
                                    plan_.low_code_item, low_distance, max_ids, interrupt));
    }
    return absl::OkStatus();
  }

  // Searches `codes` (of the items `code_item`) within `radius` in chunks,
  // asking `interrupt` between them.
  absl::Status Search(const storage::HammingIndex& index, absl::Span<const storage::Code256> codes,
                      absl::Span<const uint32_t> code_item, int radius, size_t max_ids,
                      const CheckInterrupt& interrupt) {
    for (size_t first = 0; first < codes.size(); first += kInterruptEveryCodes) {
      if (interrupt) OPTOUT_RETURN_IF_ERROR(interrupt());
      const absl::Span<const storage::Code256> chunk = codes.subspan(first, kInterruptEveryCodes);
      PdqSink sink(code_item.subspan(first, chunk.size()), matches_, max_ids);
      index.SearchBatch(chunk, radius, sink);
    }
    return absl::OkStatus();
  }

  // Resolves handles to the match ids of the items that matched; false when
  // every handle was revoked meanwhile.
  template <typename Ids>
  bool FillIds(const ItemMatch& m, Ids* ids) const {
    bool any = false;
    index_.VisitIds(m.handles, [&](size_t j, absl::string_view id) {
      if (ids->size() >= options_.max_ids_per_result) return false;
      const ItemRef& r = m.refs[j];
      if (r.kind == v1::MATCH_KIND_PDQ) {
        // PDQ codes are not keyed, so which version holds the record is not
        // known here: during a rotation its PDQ match ids use the new keys.
        *ids->Add() = PdqMatchId(keyring_.match_id_key(), id, r.ref);
      } else {
        const HmacSha256& key = r.ref < plan_.key_ring.size() && plan_.key_ring[r.ref] != 0
                                    ? previous_->match_id_key()
                                    : keyring_.match_id_key();
        const storage::Key32& item_key = plan_.keys[r.ref];
        *ids->Add() = MatchId(
            key, id, r.kind,
            absl::string_view(reinterpret_cast<const char*>(item_key.data()), item_key.size()));
      }
      any = true;
      return true;
    });
    return any;
  }

  const ItemMatch& match(size_t item) const { return matches_[item]; }

 private:
  absl::Status PlanUrl(uint32_t item, const std::string& raw, size_t field_index) {
    // Per-thread scratch, reused across items and requests so that digesting
    // a URL allocates nothing once warm.
    thread_local protocol::UrlDigests digests;
    absl::Status status = protocol::ComputeUrlDigests(raw, psl_, &digests);
    if (!status.ok()) return WithField(absl::StrCat("items[", field_index, "].url"), status);
    for (size_t j = 0; j < digests.size(); ++j) {
      AddUrlKey(digests.digest(j), item, AcceptAt(j));
    }
    return absl::OkStatus();
  }

  // Plans the lookup of a URL expression digest (a file digest) under the
  // current keys and, during a rotation, under the previous ones too.
  void AddUrlKey(absl::string_view digest, uint32_t item, Accept accept) {
    plan_.AddKey(keyring_.url_key().Mac(digest), item, accept);
    if (previous_ != nullptr) AddPreviousKey(previous_->url_key().Mac(digest), item, accept);
  }
  void AddFileKey(absl::string_view digest, uint32_t item, Accept accept) {
    plan_.AddKey(keyring_.file_key().Mac(digest), item, accept);
    if (previous_ != nullptr) AddPreviousKey(previous_->file_key().Mac(digest), item, accept);
  }
  // The keys of a packed group's digests (`length` bytes each, back to
  // back), made in one batch (HmacSha256::MacMany) under the current and,
  // during a rotation, the previous purpose key; per-thread buffers. With
  // `distinct`, each distinct digest is keyed once (distinct_digests.h):
  // the rows of a dataset repeat their host and path-prefix expressions.
  struct KeyedDigests {
    const Mac32* current;
    const Mac32* previous;  // null unless a rotation runs
    const uint32_t* slot;   // digest d's key is at slot[d]; null: at d
    size_t keys;            // at(d) < keys
    size_t at(size_t d) const { return slot == nullptr ? d : slot[d]; }
  };
  // Which of `keyed`'s distinct keys the index holds at all, looked up
  // once each, so that only the digests whose key is present are planned
  // and looked up again with their item and accepted kinds. The rows of a
  // dataset repeat their host and directory expressions (8 digests a row
  // in the LAION-like benchmark, ~3.3 distinct), and nearly every key is
  // absent. A key registered between the two lookups is missed, as if the
  // check had run just before the registration; one revoked between them
  // is not matched. Null (plan every digest) during a rotation.
  const std::vector<bool>* PresentKeys(const KeyedDigests& keyed) {
    if (keyed.previous != nullptr || keyed.slot == nullptr) return nullptr;
    thread_local std::vector<bool> present;
    present.assign(keyed.keys, false);
    index_.keys().LookupMany(absl::MakeConstSpan(keyed.current, keyed.keys),
                             [](size_t i, absl::Span<const uint64_t>) { present[i] = true; });
    return &present;
  }
  KeyedDigests KeyAll(absl::string_view data, size_t length,
                      const HmacSha256& (Keyring::*purpose)() const, bool distinct = false) {
    thread_local std::vector<Mac32> current, previous;
    thread_local DistinctDigests distinct_digests;
    size_t count = data.size() / length;
    const char* messages = data.data();
    const uint32_t* slot = nullptr;
    if (distinct) {
      distinct_digests.Find(messages, length, count);
      messages = distinct_digests.data();
      count = distinct_digests.size();
      slot = distinct_digests.slots();
    }
    // Grown only: resizing down and up again would zero the keys each time.
    if (current.size() < count) current.resize(count);
    (keyring_.*purpose)().MacMany(messages, length, count, current.data());
    if (previous_ == nullptr) return {current.data(), nullptr, slot, count};
    if (previous.size() < count) previous.resize(count);
    (previous_->*purpose)().MacMany(messages, length, count, previous.data());
    return {current.data(), previous.data(), slot, count};
  }
  // What AddUrlKey / AddFileKey do for digest `d` of `keyed`.
  void AddKeyed(const KeyedDigests& keyed, size_t d, uint32_t item, Accept accept) {
    const size_t at = keyed.at(d);
    plan_.AddKey(keyed.current[at], item, accept);
    if (keyed.previous != nullptr) AddPreviousKey(keyed.previous[at], item, accept);
  }
  void AddPreviousKey(const Mac32& key, uint32_t item, Accept accept) {
    plan_.key_ring.resize(plan_.keys.size(), 0);  // the current key just added
    plan_.AddKey(key, item, accept);
    plan_.key_ring.push_back(1);
  }

  const Keyring& keyring_;
  const Keyring* const previous_;  // null unless a rotation runs
  const url::PublicSuffixList& psl_;
  const MatchIndex& index_;
  const RegistryOptions& options_;
  LookupPlan& plan_;
  std::vector<ItemMatch>& matches_;
};

}  // namespace

absl::Status Checker::Check(const v1::CheckRequest& request, v1::CheckResponse* response,
                            const KeySet& keys, const CheckInterrupt& interrupt) const {
  OPTOUT_RETURN_IF_ERROR(ValidateCheckRequest(request, options_));
  RequestRun run(keys, psl_, index_, options_);
  // Typed items are mostly URLs, ~10 lookup expressions each.
  run.Reserve(static_cast<size_t>(request.items_size()) * 12);
  uint32_t item = 0;
  for (int i = 0; i < request.items_size(); ++i, ++item) {
    if (interrupt && i % kInterruptEveryItems == kInterruptEveryItems - 1) {
      OPTOUT_RETURN_IF_ERROR(interrupt());
    }
    OPTOUT_RETURN_IF_ERROR(run.PlanItem(item, request.items(i), i));
  }
  std::vector<uint32_t> packed_first(request.packed_size());
  for (int g = 0; g < request.packed_size(); ++g) {
    packed_first[g] = item;
    run.PlanPacked(item, request.packed(g));
    item += PackedItemCount(request.packed(g));
  }
  OPTOUT_RETURN_IF_ERROR(run.Execute(item, interrupt));

  response->set_tag(request.tag());
  for (int i = 0; i < request.items_size(); ++i) {
    v1::ItemResult* result = response->add_results();
    const ItemMatch& m = run.match(i);
    if (m.kind != v1::MATCH_KIND_NONE && run.FillIds(m, result->mutable_match_ids())) {
      result->set_matched(true);
      result->set_kind(m.kind);
    }
  }
  for (int g = 0; g < request.packed_size(); ++g) {
    const size_t n = PackedItemCount(request.packed(g));
    v1::PackedVerdict* verdict = response->add_packed_verdicts();
    std::string bitmap((n + 7) / 8, '\0');
    for (size_t i = 0; i < n; ++i) {
      const ItemMatch& m = run.match(packed_first[g] + i);
      if (m.kind == v1::MATCH_KIND_NONE) continue;
      v1::PackedMatch match;
      if (!run.FillIds(m, match.mutable_match_ids())) continue;
      match.set_index(static_cast<uint32_t>(i));
      match.set_kind(m.kind);
      *verdict->add_matches() = std::move(match);
      bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
    }
    verdict->set_matched_bitmap(std::move(bitmap));
  }
  return absl::OkStatus();
}

}  // namespace optout::service
