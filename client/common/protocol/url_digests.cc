#include "client/common/protocol/url_digests.h"

#include <algorithm>
#include <cstring>

#include "client/common/digest/sha256_blocks.h"

namespace optout::protocol {

absl::Status ComputeUrlDigests(absl::string_view raw_url, const url::PublicSuffixList& psl,
                               UrlDigests* out) {
  out->count_ = 0;
  absl::Status status = url::CanonicalizeInto(raw_url, &out->canonical_);
  if (!status.ok()) return status;
  url::ComputeLookupExpressions(out->canonical_, psl, &out->expressions_);
  // ComputeLookupExpressions promises at most kMaxExpressions; the bound
  // keeps the fixed buffer safe even if that ever changed.
  const size_t n = std::min<size_t>(out->expressions_.size(), url::kMaxExpressions);
  // The expressions that fit one block (nearly all) are hashed together,
  // four at a time, the compressions Sha256ShortMany runs in lockstep
  // (sha256_blocks.h); the rest one by one. Both give ExpressionDigest's
  // bytes. (Gathering all of them first took an array of kMaxExpressions
  // string_views, zeroed for every URL: ~2 % of a Parquet check's client
  // CPU.)
  constexpr size_t kGroup = 4;
  absl::string_view group[kGroup];
  uint8_t group_index[kGroup];
  size_t grouped = 0;
  digest::Sha256Digest digests[kGroup];
  const auto hash_group = [&] {
    digest::Sha256ShortMany(group, grouped, digests);
    for (size_t k = 0; k < grouped; ++k) {
      std::memcpy(out->bytes_.data() + group_index[k] * kUrlDigestBytes, digests[k].data(),
                  kUrlDigestBytes);
    }
    grouped = 0;
  };
  for (size_t i = 0; i < n; ++i) {
    const absl::string_view e = out->expressions_[i];
    if (e.size() <= digest::kSha256OneBlockMax) {
      group[grouped] = e;
      group_index[grouped++] = static_cast<uint8_t>(i);
      if (grouped == kGroup) hash_group();
      continue;
    }
    const digest::Sha256Digest d = ExpressionDigest(e);
    std::memcpy(out->bytes_.data() + i * kUrlDigestBytes, d.data(), kUrlDigestBytes);
  }
  if (grouped > 0) hash_group();
  out->count_ = n;
  return absl::OkStatus();
}

}  // namespace optout::protocol
