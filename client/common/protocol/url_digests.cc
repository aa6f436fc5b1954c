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
  // several compressions in lockstep (sha256_blocks.h); the rest one by one.
  // Both give ExpressionDigest's bytes.
  absl::string_view short_ones[url::kMaxExpressions];
  uint8_t short_index[url::kMaxExpressions];
  size_t shorts = 0;
  for (size_t i = 0; i < n; ++i) {
    const absl::string_view e = out->expressions_[i];
    if (e.size() <= digest::kSha256OneBlockMax) {
      short_ones[shorts] = e;
      short_index[shorts++] = static_cast<uint8_t>(i);
      continue;
    }
    const digest::Sha256Digest d = ExpressionDigest(e);
    std::memcpy(out->bytes_.data() + i * kUrlDigestBytes, d.data(), kUrlDigestBytes);
  }
  digest::Sha256Digest digests[url::kMaxExpressions];
  digest::Sha256ShortMany(short_ones, shorts, digests);
  for (size_t k = 0; k < shorts; ++k) {
    std::memcpy(out->bytes_.data() + short_index[k] * kUrlDigestBytes, digests[k].data(),
                kUrlDigestBytes);
  }
  out->count_ = n;
  return absl::OkStatus();
}

}  // namespace optout::protocol
