#include "service/check_counters.h"

#include "client/common/protocol/packed_items.h"

namespace optout::service {
namespace {

CheckedItemKind KindOf(const v1::CheckItem& item) {
  switch (item.kind_case()) {
    case v1::CheckItem::kUrlDigests:
      return CheckedItemKind::kUrlDigests;
    case v1::CheckItem::kPdq:
      return CheckedItemKind::kPdq;
    case v1::CheckItem::kSha256:
      return CheckedItemKind::kSha256;
    case v1::CheckItem::kMd5:
      return CheckedItemKind::kMd5;
    default:
      return CheckedItemKind::kUrl;  // validation refused empty items already
  }
}

CheckedItemKind KindOf(const v1::PackedItems& packed) {
  switch (packed.kind()) {
    case v1::PackedItems::KIND_SHA256:
      return CheckedItemKind::kSha256;
    case v1::PackedItems::KIND_MD5:
      return CheckedItemKind::kMd5;
    case v1::PackedItems::KIND_PDQ:
      return CheckedItemKind::kPdq;
    default:
      return CheckedItemKind::kUrlDigests;
  }
}

}  // namespace

const char* CheckedItemKindName(CheckedItemKind kind) {
  switch (kind) {
    case CheckedItemKind::kUrl:
      return "url";
    case CheckedItemKind::kUrlDigests:
      return "url_digests";
    case CheckedItemKind::kPdq:
      return "pdq";
    case CheckedItemKind::kSha256:
      return "sha256";
    case CheckedItemKind::kMd5:
      return "md5";
  }
  return "url";
}

void CheckCounters::Count(const v1::CheckRequest& request, const v1::CheckResponse& response) {
  // Counted locally first: one atomic addition per kind seen, not per item.
  std::array<uint64_t, kCheckedItemKindCount> items{};
  std::array<uint64_t, protocol::kMatchKindCount> matches{};
  for (const v1::CheckItem& item : request.items()) ++items[static_cast<int>(KindOf(item))];
  for (const v1::PackedItems& packed : request.packed()) {
    items[static_cast<int>(KindOf(packed))] += protocol::PackedItemCount(packed);
  }
  for (const v1::ItemResult& result : response.results()) {
    if (result.matched() && result.kind() > 0 && result.kind() < protocol::kMatchKindCount) {
      ++matches[result.kind()];
    }
  }
  for (const v1::PackedVerdict& verdict : response.packed_verdicts()) {
    for (const v1::PackedMatch& match : verdict.matches()) {
      if (match.kind() > 0 && match.kind() < protocol::kMatchKindCount) ++matches[match.kind()];
    }
  }
  for (int k = 0; k < kCheckedItemKindCount; ++k) {
    if (items[k] != 0) items_[k].fetch_add(items[k], std::memory_order_relaxed);
  }
  for (int k = 1; k < protocol::kMatchKindCount; ++k) {
    if (matches[k] != 0) matches_[k].fetch_add(matches[k], std::memory_order_relaxed);
  }
}

}  // namespace optout::service
