#include "client/common/protocol/url_digests.h"

#include <algorithm>
#include <cstring>

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
  for (size_t i = 0; i < n; ++i) {
    const digest::Sha256Digest d = ExpressionDigest(out->expressions_[i]);
    std::memcpy(out->bytes_.data() + i * kUrlDigestBytes, d.data(), kUrlDigestBytes);
  }
  out->count_ = n;
  return absl::OkStatus();
}

}  // namespace optout::protocol
