#include "client/dataset/url_digests.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::dataset {

absl::StatusOr<uint32_t> UrlDigester::Append(absl::string_view raw, std::string* data) {
  absl::Status s = url::CanonicalizeInto(raw, &canonical_);
  if (!s.ok()) return s;
  url::ComputeLookupExpressions(canonical_, psl_, &expressions_);
  const size_t n = expressions_.size();
  const size_t old_size = data->size();
  data->resize(old_size + n * 32);
  char* out = data->data() + old_size;
  for (size_t i = 0; i < n; ++i) {
    const digest::Sha256Digest d = digest::Sha256(expressions_[i]);
    std::memcpy(out + i * 32, d.data(), d.size());
  }
  return static_cast<uint32_t>(n);
}

absl::Status CheckPslMatchesServer(const url::PublicSuffixList& psl,
                                   const v1::GetInfoResponse& info) {
  if (info.psl_version().empty() || info.psl_version() == psl.version()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the server uses Public Suffix List ", info.psl_version(), " but this client has ",
      psl.version(), " (", psl.path(), "); scope matches would differ: pass --psl-file with the "
      "server's list"));
}

}  // namespace optout::dataset
