// File: client/common/protocol/url_digests.h
//
// The URL rule of the wire protocol: a URL is looked up by the SHA-256 of
// each of its lookup expressions, the exact expression first
// (client/common/url/URL_RULES.md#lookup-expressions). The server digests registered URLs and scopes and the
// URLs of typed check items with these functions; clients that send
// UrlDigests or KIND_URL_DIGESTS compute the same bytes with them, so both
// sides cannot drift apart.
//
// Thread-compatible: UrlDigests is scratch space, one per thread; the
// PublicSuffixList may be shared.
#ifndef OPTOUT_CLIENT_COMMON_PROTOCOL_URL_DIGESTS_H_
#define OPTOUT_CLIENT_COMMON_PROTOCOL_URL_DIGESTS_H_

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/common/digest/digest.h"
#include "client/common/protocol/packed_items.h"
#include "client/common/url/url.h"

namespace optout::protocol {

// The digest of one lookup expression (or scope expression) as sent and
// stored: its SHA-256.
inline digest::Sha256Digest ExpressionDigest(absl::string_view expression) {
  return digest::Sha256(expression);
}

// The digests of one URL's lookup expressions, exact expression first: the
// content of one KIND_URL_DIGESTS item (and of a UrlDigests message). Reuse
// one object: ComputeUrlDigests then allocates nothing once warm.
class UrlDigests {
 public:
  // Number of digests, 1..url::kMaxExpressions; 0 after a failed compute.
  size_t size() const { return count_; }
  // Digest i (kUrlDigestBytes bytes); i < size().
  absl::string_view digest(size_t i) const {
    return absl::string_view(bytes_.data() + i * kUrlDigestBytes, kUrlDigestBytes);
  }
  // The canonical URL of the last successful compute.
  const url::CanonicalUrl& canonical() const { return canonical_; }
  // All digests back to back, as in PackedItems.data.
  absl::string_view packed() const {
    return absl::string_view(bytes_.data(), count_ * kUrlDigestBytes);
  }

 private:
  friend absl::Status ComputeUrlDigests(absl::string_view raw_url,
                                        const url::PublicSuffixList& psl, UrlDigests* out);
  url::CanonicalUrl canonical_;
  url::ExpressionList expressions_;
  std::array<char, url::kMaxExpressions * kUrlDigestBytes> bytes_;
  size_t count_ = 0;
};

// Canonicalizes `raw_url` and fills `*out` with the digests of its lookup
// expressions under `psl`. On a malformed URL returns the canonicalization's
// InvalidArgument ("KIND: reason", never the URL) and leaves out->size() 0.
absl::Status ComputeUrlDigests(absl::string_view raw_url, const url::PublicSuffixList& psl,
                               UrlDigests* out);

}  // namespace optout::protocol

#endif  // OPTOUT_CLIENT_COMMON_PROTOCOL_URL_DIGESTS_H_
