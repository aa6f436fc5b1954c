#include "service/opt_out_codec.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/url_digests.h"
#include "service/scope_proofs.h"
#include "service/validation.h"

namespace optout::service {
namespace {

std::string DigestOf(absl::string_view expression) {
  const digest::Sha256Digest d = protocol::ExpressionDigest(expression);
  return std::string(d.begin(), d.end());
}

// Appends values to one field unless an equal value is already there: an
// item given twice in one registration (the same photo registered twice, two
// spellings of one URL) is stored once, in first-seen order.
class OnceField {
 public:
  OnceField(google::protobuf::RepeatedPtrField<std::string>* field, std::vector<int>* positions)
      : field_(field), positions_(positions) {}
  // Records the value's stored position (its first one when repeated);
  // true when it was new.
  bool Add(std::string value) {
    auto [it, fresh] = seen_.try_emplace(value, field_->size());
    if (fresh) *field_->Add() = std::move(value);
    if (positions_ != nullptr) positions_->push_back(it->second);
    return fresh;
  }

 private:
  google::protobuf::RepeatedPtrField<std::string>* field_;
  std::vector<int>* positions_;
  absl::flat_hash_map<std::string, int> seen_;
};

void AddEntry(internal::OptOutRecord* record, v1::MatchKind kind, const Mac32& key) {
  internal::IndexEntry* entry = record->add_entries();
  entry->set_kind(kind);
  entry->set_key(std::string(key.begin(), key.end()));
}

}  // namespace

absl::StatusOr<internal::SealedPart> SaltableContent(const v1::RegisterRequest& request,
                                                     const url::PublicSuffixList& psl,
                                                     ItemPositions* positions,
                                                     int min_pdq_quality) {
  internal::SealedPart content;
  ItemPositions* p = positions;
  OnceField urls(content.mutable_url_digests(), p ? &p->urls : nullptr);
  OnceField scopes(content.mutable_scope_digests(), p ? &p->scopes : nullptr);
  std::vector<int> own_pdq_positions;
  std::vector<int>* pdq_positions = p ? &p->pdq : &own_pdq_positions;
  const size_t first_pdq_position = pdq_positions->size();
  OnceField pdq(content.mutable_pdq(), pdq_positions);
  OnceField sha256(content.mutable_sha256(), p ? &p->sha256 : nullptr);
  OnceField md5(content.mutable_md5(), p ? &p->md5 : nullptr);
  OnceField any_query(content.mutable_url_any_query_digests(), p ? &p->url_any_query : nullptr);
  for (int i = 0; i < request.urls_size(); ++i) {
    auto canonical = url::Canonicalize(request.urls(i));
    if (!canonical.ok()) return WithField(absl::StrCat("urls[", i, "]"), canonical.status());
    urls.Add(DigestOf(canonical->ExactExpression()));
  }
  for (int i = 0; i < request.url_any_query_size(); ++i) {
    const std::string field = absl::StrCat("url_any_query[", i, "]");
    auto canonical = url::Canonicalize(request.url_any_query(i));
    if (!canonical.ok()) return WithField(field, canonical.status());
    auto key = url::AnyQueryExpression(*canonical);
    if (!key.ok()) return WithField(field, key.status());
    any_query.Add(DigestOf(*key));
  }
  for (int i = 0; i < request.scopes_size(); ++i) {
    const std::string field = absl::StrCat("scopes[", i, "]");
    auto canonical = url::Canonicalize(request.scopes(i));
    if (!canonical.ok()) return WithField(field, canonical.status());
    auto scope = url::ScopeExpression(*canonical, psl);
    if (!scope.ok()) return WithField(field, scope.status());
    // The host is kept (sealed) beside its scope: its proof is checked there.
    if (scopes.Add(DigestOf(*scope))) content.add_scope_hosts(canonical->host);
  }
  bool any_regions = false;
  bool any_low_quality = false;
  for (const auto& hash : request.pdq()) {
    // A hash given twice keeps its first tier, as it keeps its first regions.
    if (pdq.Add(hash.hash())) content.add_pdq_low_quality(hash.quality() < min_pdq_quality);
    any_regions = any_regions || hash.regions_size() > 0;
    any_low_quality = any_low_quality || hash.quality() < min_pdq_quality;
  }
  // Stored only when some hash is low-quality: other records (and their
  // fingerprints) stay as they were before the tier.
  if (!any_low_quality) content.clear_pdq_low_quality();
  // Regions travel with their image: pdq_regions[i] holds those of pdq[i]
  // (from the first copy of a hash given twice).
  if (any_regions) {
    content.mutable_pdq_regions()->Reserve(content.pdq_size());
    for (int i = 0; i < content.pdq_size(); ++i) content.add_pdq_regions();
    // Each region's tier, when some hash gave its regions' qualities; the
    // regions of one that did not take its tier (as before per-region tiers).
    bool region_tiers = false;
    for (const auto& hash : request.pdq()) region_tiers = region_tiers || hash.region_quality_size() > 0;
    if (region_tiers) {
      for (int i = 0; i < content.pdq_size(); ++i) content.add_pdq_region_low_quality();
    }
    std::vector<bool> filled(content.pdq_size(), false);
    for (int i = 0; i < request.pdq_size(); ++i) {
      const int position = (*pdq_positions)[first_pdq_position + i];
      if (filled[position]) continue;
      filled[position] = true;
      const v1::PdqHash& hash = request.pdq(i);
      std::string& joined = *content.mutable_pdq_regions(position);
      for (const auto& region : hash.regions()) joined += region;
      if (!region_tiers) continue;
      std::string& bits = *content.mutable_pdq_region_low_quality(position);
      bits.assign((hash.regions_size() + 7) / 8, '\0');
      // Low-quality when the region or its image is: a region's own quality
      // can only make it stricter (README.md#matching, "Per-region tiers").
      for (int r = 0; r < hash.regions_size(); ++r) {
        const bool low = hash.quality() < min_pdq_quality ||
                         (hash.region_quality_size() > 0 && hash.region_quality(r) < min_pdq_quality);
        if (low) bits[r / 8] = static_cast<char>(bits[r / 8] | 1 << (r % 8));
      }
    }
  }
  for (const auto& d : request.sha256()) sha256.Add(d);
  for (const auto& d : request.md5()) md5.Add(d);
  return content;
}

std::string Fingerprint(const Keyring& keyring, const internal::SealedPart& content) {
  internal::SealedPart without_token = content;
  without_token.clear_manage_token();
  without_token.clear_request_id();  // added after fingerprints existed: not part of one
  without_token.clear_challenge_token();
  // Hosts follow from the scopes (their digests cover them); leaving them
  // out keeps fingerprints of registrations from before they were kept.
  without_token.clear_scope_hosts();
  const Mac32 mac = keyring.request_key().Mac(
      absl::StrCat("content:", without_token.SerializeAsString()));
  return std::string(mac.begin(), mac.end());
}

std::string RequestKey(const Keyring& keyring, absl::string_view request_id) {
  if (request_id.empty()) return std::string();
  const Mac32 mac = keyring.request_key().Mac(absl::StrCat("id:", request_id));
  return std::string(mac.begin(), mac.end());
}

absl::StatusOr<internal::OptOutRecord> BuildRecord(const Keyring& keyring, absl::string_view id,
                                                   const internal::SealedPart& content,
                                                   absl::string_view request_key,
                                                   absl::string_view fingerprint,
                                                   int64_t created_unix_seconds) {
  internal::OptOutRecord record;
  record.set_key_version(keyring.version());
  record.set_created_unix_seconds(created_unix_seconds);
  const digest::Sha256Digest token_hash = digest::Sha256(content.manage_token());
  record.set_token_sha256(std::string(token_hash.begin(), token_hash.end()));
  record.set_request_key(std::string(request_key));
  record.set_request_fingerprint(std::string(fingerprint));
  for (const auto& d : content.url_digests()) AddEntry(&record, v1::MATCH_KIND_URL, keyring.url_key().Mac(d));
  for (const auto& d : content.scope_digests()) AddEntry(&record, v1::MATCH_KIND_SCOPE, keyring.url_key().Mac(d));
  // Same key space as URLs and scopes; the kind keeps them apart
  // (service/DESIGN.md#index-keys).
  for (const auto& d : content.url_any_query_digests()) {
    AddEntry(&record, v1::MATCH_KIND_URL_ANY_QUERY, keyring.url_key().Mac(d));
  }
  for (const auto& d : content.sha256()) AddEntry(&record, v1::MATCH_KIND_SHA256, keyring.file_key().Mac(d));
  for (const auto& d : content.md5()) AddEntry(&record, v1::MATCH_KIND_MD5, keyring.file_key().Mac(d));
  record.set_pdq_count(content.pdq_size());
  StartScopeProofs(&record);
  OPTOUT_ASSIGN_OR_RETURN(std::string sealed,
                          keyring.record_cipher().Seal(content.SerializeAsString(), id));
  record.set_sealed(std::move(sealed));
  return record;
}

absl::StatusOr<internal::SealedPart> OpenSealed(const Keyring& keyring, absl::string_view id,
                                                const internal::OptOutRecord& record) {
  OPTOUT_ASSIGN_OR_RETURN(std::string plain, keyring.record_cipher().Open(record.sealed(), id));
  internal::SealedPart part;
  if (!part.ParseFromString(plain)) return absl::DataLossError("sealed part does not parse");
  return part;
}

absl::StatusOr<IndexedOptOut> IndexedFromRecord(const Keyring& keyring, absl::string_view id,
                                                const internal::OptOutRecord& record,
                                                bool matching_only) {
  if (id.size() != MatchIndex::kIdSize) return absl::DataLossError("opt-out id of wrong size");
  IndexedOptOut out;
  out.id = std::string(id);
  out.keys.reserve(record.entries_size());
  int scope = 0;
  for (const auto& entry : record.entries()) {
    if (entry.key().size() != 32) return absl::DataLossError("index key of wrong size");
    if (entry.kind() == v1::MATCH_KIND_SCOPE && !ScopeMatches(record, scope++) && matching_only) {
      continue;
    }
    IndexedOptOut::Key key;
    key.kind = static_cast<v1::MatchKind>(entry.kind());
    std::memcpy(key.key.data(), entry.key().data(), 32);
    out.keys.push_back(key);
  }
  if (record.pdq_count() > 0) {
    OPTOUT_ASSIGN_OR_RETURN(internal::SealedPart part, OpenSealed(keyring, id, record));
    for (const auto& pdq : part.pdq()) {
      if (pdq.size() != 32) return absl::DataLossError("sealed PDQ hash of wrong size");
      out.pdq.push_back(storage::CodeFromBytes(pdq));
    }
    if (part.pdq_low_quality_size() != 0) {
      if (part.pdq_low_quality_size() != part.pdq_size()) {
        return absl::DataLossError("sealed PDQ tiers do not match the hashes");
      }
      out.pdq_low_quality.assign(part.pdq_low_quality().begin(), part.pdq_low_quality().end());
    }
    const bool region_tiers = part.pdq_region_low_quality_size() != 0;
    if (region_tiers && part.pdq_region_low_quality_size() != part.pdq_regions_size()) {
      return absl::DataLossError("sealed PDQ region tiers do not match the regions");
    }
    for (int i = 0; i < part.pdq_regions_size(); ++i) {
      const std::string& joined = part.pdq_regions(i);
      if (joined.size() % 32 != 0 || joined.size() / 32 > MatchIndex::kMaxRegionsPerPdq ||
          (!joined.empty() && static_cast<size_t>(i) >= MatchIndex::kMaxPdqWithRegions)) {
        return absl::DataLossError("sealed PDQ regions out of bounds");
      }
      const size_t n = joined.size() / 32;
      if (region_tiers && part.pdq_region_low_quality(i).size() != (n + 7) / 8) {
        return absl::DataLossError("sealed PDQ region tiers do not match the regions");
      }
      for (size_t r = 0; r < n; ++r) {
        const bool low = region_tiers ? (static_cast<uint8_t>(part.pdq_region_low_quality(i)[r / 8]) >>
                                         (r % 8) & 1) != 0
                                      : out.LowQuality(i);
        out.pdq_regions.push_back({static_cast<uint16_t>(i), static_cast<uint16_t>(r),
                                   storage::CodeFromBytes(absl::string_view(joined).substr(r * 32, 32)),
                                   low});
      }
    }
  }
  return out;
}

}  // namespace optout::service
