#include "client/dataset/chunk_check.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/match_kind.h"
#include "client/common/protocol/packed_items.h"
#include "client/pdq/image_hasher.h"

namespace optout::dataset {

using protocol::kMd5Bytes;
using protocol::kPdqDihedralItemBytes;
using protocol::kSha256Bytes;

void PrepareRecord(UrlDigester& digester, const protocol::PdqQualityFloors& floors, Record* r) {
  if (r->passthrough) return;
  if (r->has_url) {
    auto count = digester.Append(r->url, &r->url_digests);
    if (count.ok()) {
      r->url_count = *count;
    } else if (r->unchecked.empty()) {
      r->unchecked = absl::StrCat("bad URL: ", count.status().message());
    }
  }
  if (r->image_file >= 0) {
    const SampleFile& image = r->files[r->image_file];
    pdq::HashOptions options;
    options.dihedral = true;
    // The same regions `optout check --image` sends (match_regions.h), so
    // cropped, framed and captioned copies match here too.
    options.regions = pdq::RegionSet::kChecker;
    options.min_region_quality = floors.low;
    auto hashes = pdq::HashImageBytes(image.bytes, options);
    if (!hashes.ok()) {
      // The exact file digests still work for an undecodable file.
      const digest::Sha256Digest sha256 = digest::Sha256(image.bytes);
      const digest::Md5Digest md5 = digest::Md5(image.bytes);
      r->sha256.assign(sha256.begin(), sha256.end());
      r->md5.assign(md5.begin(), md5.end());
      if (r->unchecked.empty()) {
        r->unchecked = absl::StrCat("undecodable image ", image.name, ": ",
                                    hashes.status().message());
      }
      return;
    }
    // The bytes at hand beat any digest a manifest claims.
    r->sha256.assign(hashes->sha256.begin(), hashes->sha256.end());
    r->md5.assign(hashes->md5.begin(), hashes->md5.end());
    if (!floors.Usable(hashes->quality)) {
      r->low_quality = true;
      return;
    }
    r->pdq_low_quality = floors.Low(hashes->quality);
    const int region_floor = floors.RegionFloor(hashes->quality);
    r->pdq.reserve(kPdqDihedralItemBytes);
    r->pdq.append(hashes->pdq.bytes.begin(), hashes->pdq.bytes.end());
    for (const pdq::PdqHash& h : hashes->dihedral) r->pdq.append(h.bytes.begin(), h.bytes.end());
    r->pdq_regions.reserve(hashes->regions.size() * protocol::kPdqBytes);
    size_t regions = 0;
    for (const pdq::RegionHash& region : hashes->regions) {
      if (region.quality < region_floor) continue;
      if (regions++ == protocol::kMaxCheckRegionsPerPdq) break;
      r->pdq_regions.append(region.hash.bytes.begin(), region.hash.bytes.end());
      if (floors.region_tiers) {
        r->pdq_region_low.push_back(floors.RegionLow(hashes->quality, region.quality) ? 1 : 0);
      }
    }
  }
}

void BuildRequest(const std::vector<Record>& records, ChunkPlan* plan) {
  enum Group { kUrl, kSha256, kMd5, kPdq, kGroups };
  v1::PackedItems* groups[kGroups] = {};
  std::vector<uint32_t> members[kGroups];
  size_t url_bytes = 0;
  bool any_regions = false;  // then every PDQ item says how many follow it
  // Then every region's tier is sent (pdq_region_low_quality).
  bool any_region_tiers = false;
  for (const Record& r : records) {
    url_bytes += r.url_digests.size();
    any_regions = any_regions || (!r.passthrough && !r.pdq_regions.empty());
    any_region_tiers = any_region_tiers || (!r.passthrough && !r.pdq_region_low.empty());
  }
  size_t regions_in_group = 0;
  auto group = [&](Group g) {
    if (groups[g] == nullptr) {
      groups[g] = plan->request.add_packed();
      static constexpr v1::PackedItems::Kind kKinds[] = {
          v1::PackedItems::KIND_URL_DIGESTS, v1::PackedItems::KIND_SHA256,
          v1::PackedItems::KIND_MD5, v1::PackedItems::KIND_PDQ};
      groups[g]->set_kind(kKinds[g]);
      if (g == kPdq) groups[g]->set_pdq_dihedral(true);
      if (g == kUrl) groups[g]->mutable_data()->reserve(url_bytes);
    }
    return groups[g];
  };
  for (uint32_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.passthrough) continue;
    if (r.url_count > 0) {
      v1::PackedItems* p = group(kUrl);
      p->mutable_data()->append(r.url_digests);
      p->add_counts(r.url_count);
      members[kUrl].push_back(i);
    }
    if (r.sha256.size() == kSha256Bytes) {
      group(kSha256)->mutable_data()->append(r.sha256);
      members[kSha256].push_back(i);
    }
    if (r.md5.size() == kMd5Bytes) {
      group(kMd5)->mutable_data()->append(r.md5);
      members[kMd5].push_back(i);
    }
    if (r.pdq.size() == kPdqDihedralItemBytes) {
      v1::PackedItems* p = group(kPdq);
      p->mutable_data()->append(r.pdq);
      if (any_regions) {
        const size_t count = r.pdq_regions.size() / protocol::kPdqBytes;
        p->mutable_data()->append(r.pdq_regions);
        p->add_counts(static_cast<uint32_t>(count));
        if (any_region_tiers) {
          // A region without its own tier takes its item's.
          std::string& bits = *p->mutable_pdq_region_low_quality();
          for (size_t j = 0; j < count; ++j, ++regions_in_group) {
            const bool low = r.pdq_region_low.empty() ? r.pdq_low_quality : r.pdq_region_low[j] != 0;
            if (bits.size() <= regions_in_group / 8) bits.resize(regions_in_group / 8 + 1, '\0');
            if (low) bits[regions_in_group / 8] |= static_cast<char>(1 << (regions_in_group % 8));
          }
        }
      }
      if (r.pdq_low_quality) {
        // One bit per item of the group, only when some item is low-quality.
        const size_t item = members[kPdq].size();
        std::string& bits = *p->mutable_pdq_low_quality();
        if (bits.size() <= item / 8) bits.resize(item / 8 + 1, '\0');
        bits[item / 8] = static_cast<char>(bits[item / 8] | (1 << (item % 8)));
      }
      members[kPdq].push_back(i);
    }
  }
  // The bitmap, when present, has a byte for every 8 items of its group.
  if (groups[kPdq] != nullptr && !groups[kPdq]->pdq_low_quality().empty()) {
    groups[kPdq]->mutable_pdq_low_quality()->resize((members[kPdq].size() + 7) / 8, '\0');
  }
  // And the region bitmap one for every 8 regions (none when no region).
  if (groups[kPdq] != nullptr && any_region_tiers) {
    groups[kPdq]->mutable_pdq_region_low_quality()->resize((regions_in_group + 7) / 8, '\0');
  }
  // item_record follows the order in which the groups were added.
  plan->item_record.clear();
  for (int p = 0; p < plan->request.packed_size(); ++p) {
    for (int g = 0; g < kGroups; ++g) {
      if (groups[g] == plan->request.mutable_packed(p)) {
        plan->item_record.push_back(std::move(members[g]));
      }
    }
  }
}

absl::Status ApplyResponse(const ChunkPlan& plan, const v1::CheckResponse& response,
                           std::vector<Verdict>* verdicts) {
  if (response.packed_verdicts_size() != static_cast<int>(plan.item_record.size())) {
    return absl::InternalError(absl::StrCat("server answered ", response.packed_verdicts_size(),
                                            " packed groups, sent ", plan.item_record.size()));
  }
  for (size_t g = 0; g < plan.item_record.size(); ++g) {
    const std::vector<uint32_t>& members = plan.item_record[g];
    for (const v1::PackedMatch& m : response.packed_verdicts(g).matches()) {
      if (m.index() >= members.size()) {
        return absl::InternalError("server answered a match for an item never sent");
      }
      Verdict& v = (*verdicts)[members[m.index()]];
      v.kind = protocol::StrongerMatchKind(v.kind, m.kind());
      for (const std::string& id : m.match_ids()) {
        if (std::find(v.ids.begin(), v.ids.end(), id) == v.ids.end()) v.ids.push_back(id);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace optout::dataset
