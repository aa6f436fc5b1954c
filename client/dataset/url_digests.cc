#include "client/dataset/url_digests.h"

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::dataset {

absl::StatusOr<uint32_t> UrlDigester::Append(absl::string_view raw, std::string* data) {
  OPTOUT_RETURN_IF_ERROR(protocol::ComputeUrlDigests(raw, psl_, &digests_));
  OPTOUT_RETURN_IF_ERROR(url::CheckHostName(digests_.canonical()));
  data->append(digests_.packed().data(), digests_.packed().size());
  return static_cast<uint32_t>(digests_.size());
}

absl::Status CheckPslMatchesServer(const url::PublicSuffixList& psl,
                                   const v1::GetInfoResponse& info) {
  if (!info.psl_sha256().empty()) {
    if (info.psl_sha256() == psl.sha256_hex()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "the server uses another Public Suffix List (", info.psl_version(), ", SHA-256 ",
        info.psl_sha256().substr(0, 12), "...) than ", psl.path(), " (", psl.version(),
        "); scope matches would differ (client::PublicSuffixListForServer picks the server's)"));
  }
  if (info.psl_version().empty() || info.psl_version() == psl.version()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the server uses Public Suffix List ", info.psl_version(), " but this client has ",
      psl.version(), " (", psl.path(), "); scope matches would differ: pass --psl-file with the "
      "server's list"));
}

}  // namespace optout::dataset
