#include "tests/load/batch_builder.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "client/common/protocol/packed_items.h"
#include "client/common/protocol/url_digests.h"

namespace optout::load {
namespace {

using protocol::kPdqBytes;
using protocol::kUrlDigestBytes;

absl::Status AddUrlDigests(const std::string& raw, bool exact_only,
                           const url::PublicSuffixList& psl, protocol::UrlDigests* digests,
                           v1::PackedItems* packed) {
  absl::Status s = protocol::ComputeUrlDigests(raw, psl, digests);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("workload URL: ", s.message()));
  const size_t n = exact_only ? 1 : digests->size();
  const absl::string_view bytes = digests->packed().substr(0, n * kUrlDigestBytes);
  packed->mutable_data()->append(bytes.data(), bytes.size());
  if (!exact_only) packed->add_counts(static_cast<uint32_t>(n));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Batch> BuildBatch(const Workload& workload, const BatchOptions& options,
                                 const url::PublicSuffixList* psl, uint64_t first,
                                 uint32_t count) {
  Batch batch;
  batch.items = count;
  batch.request.set_tag(first);
  switch (options.mode) {
    case CheckMode::kDigests: {
      if (psl == nullptr) return absl::InvalidArgumentError("digests mode needs a PSL");
      v1::PackedItems* packed = batch.request.add_packed();
      packed->set_kind(v1::PackedItems::KIND_URL_DIGESTS);
      packed->mutable_data()->reserve(static_cast<size_t>(count) * kUrlDigestBytes *
                                      (options.exact_only ? 1 : 12));
      protocol::UrlDigests digests;
      for (uint64_t j = first; j < first + count; ++j) {
        absl::Status s =
            AddUrlDigests(workload.CheckUrl(j), options.exact_only, *psl, &digests, packed);
        if (!s.ok()) return s;
      }
      batch.units = static_cast<uint32_t>(packed->data().size() / kUrlDigestBytes);
      break;
    }
    case CheckMode::kUrls:
      for (uint64_t j = first; j < first + count; ++j) {
        batch.request.add_items()->set_url(workload.CheckUrl(j));
      }
      batch.units = count;
      break;
    case CheckMode::kPdq: {
      v1::PackedItems* packed = batch.request.add_packed();
      packed->set_kind(v1::PackedItems::KIND_PDQ);
      packed->set_pdq_dihedral(options.dihedral);
      std::string* data = packed->mutable_data();
      data->reserve(static_cast<size_t>(count) *
                    (options.dihedral ? protocol::kPdqDihedralItemBytes : kPdqBytes));
      for (uint64_t j = first; j < first + count; ++j) {
        const Code code = workload.CheckPdq(j);
        data->append(reinterpret_cast<const char*>(code.data()), code.size());
        if (!options.dihedral) continue;
        // As clients send them: the identity first (the hash itself), then
        // seven others (random here: they stand for turned copies).
        data->append(reinterpret_cast<const char*>(code.data()), code.size());
        for (int k = 1; k < 8; ++k) {
          const Code filler = workload.DihedralFiller(j, k);
          data->append(reinterpret_cast<const char*>(filler.data()), filler.size());
        }
      }
      batch.units = static_cast<uint32_t>(data->size() / kPdqBytes);
      break;
    }
  }
  for (uint64_t j = first; j < first + count; ++j) batch.expected_matches += workload.IsHit(j);
  return batch;
}

uint64_t CountMatches(const v1::CheckResponse& response) {
  uint64_t matched = 0;
  for (const auto& r : response.results()) matched += r.matched();
  for (const auto& v : response.packed_verdicts()) {
    for (unsigned char byte : v.matched_bitmap()) matched += __builtin_popcount(byte);
  }
  return matched;
}

}  // namespace optout::load
