// File: client/common/url/lookup_expressions.h
//
// Lookup expressions (URL_RULES.md#lookup-expressions): host suffixes bounded
// by the registrable domain × path prefixes. The exact expression always comes
// first.
#ifndef OPTOUT_CLIENT_COMMON_URL_LOOKUP_EXPRESSIONS_H_
#define OPTOUT_CLIENT_COMMON_URL_LOOKUP_EXPRESSIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "client/common/url/canonicalize.h"
#include "client/common/url/public_suffix_list.h"

namespace optout::url {

inline constexpr int kMaxHostExpressions = 5;
inline constexpr int kMaxPathExpressions = 6;
inline constexpr int kMaxExpressions = kMaxHostExpressions * kMaxPathExpressions;

// Expressions stored back to back in one buffer; reuse one instance in a loop
// and computing expressions allocates nothing once it has grown.
class ExpressionList {
 public:
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  absl::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return absl::string_view(buffer_).substr(begin, ends_[i] - begin);
  }
  std::vector<std::string> ToVector() const;
  void Clear() {
    buffer_.clear();
    ends_.clear();
  }

 private:
  friend void ComputeLookupExpressions(const CanonicalUrl&, const PublicSuffixList&,
                                       ExpressionList*);
  std::string buffer_;
  absl::InlinedVector<uint32_t, kMaxExpressions> ends_;
};

// All lookup expressions of `url` (which must come from Canonicalize): the
// exact expression first, no duplicates, at most 30. Order: hosts from the
// most specific; under each host the exact path (with query), the path, "/",
// then the directory prefixes from the shallowest.
void ComputeLookupExpressions(const CanonicalUrl& url, const PublicSuffixList& psl,
                              ExpressionList* out);
std::vector<std::string> LookupExpressions(const CanonicalUrl& url, const PublicSuffixList& psl);

// Offsets into `host` where the host suffixes (URL_RULES.md#host-suffixes)
// begin: 0 (the host itself) first, then the suffixes from longest to the
// registrable domain.
absl::InlinedVector<size_t, kMaxHostExpressions> HostSuffixStarts(const CanonicalUrl& url,
                                                                  const PublicSuffixList& psl);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_LOOKUP_EXPRESSIONS_H_
