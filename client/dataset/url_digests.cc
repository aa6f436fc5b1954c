// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
// still provided; see ExpressionSha256 for why they are used here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "client/dataset/url_digests.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace optout::dataset {
namespace {

// A URL brings ~10 expressions of ~40 bytes each, so the per-call overhead
// of the digest dominates: through EVP (even with a fetched algorithm and a
// reused context) one costs ~170 ns here, through the low-level SHA-256
// calls ~120 ns (SHA-NI either way). Same digest as digest::Sha256.
void ExpressionSha256(absl::string_view expression, char* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, expression.data(), expression.size());
  SHA256_Final(reinterpret_cast<unsigned char*>(out), &ctx);
}

}  // namespace

absl::StatusOr<uint32_t> UrlDigester::Append(absl::string_view raw, std::string* data) {
  absl::Status s = url::CanonicalizeInto(raw, &canonical_);
  if (!s.ok()) return s;
  url::ComputeLookupExpressions(canonical_, psl_, &expressions_);
  const size_t n = expressions_.size();
  const size_t old_size = data->size();
  data->resize(old_size + n * 32);
  char* out = data->data() + old_size;
  for (size_t i = 0; i < n; ++i) ExpressionSha256(expressions_[i], out + i * 32);
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
