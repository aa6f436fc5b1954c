// File: client/dataset/url_digests.h
//
// Client-side URL preparation for the packed bulk path: append a raw URL's
// lookup-expression digests (protocol::ComputeUrlDigests, the rule the
// server applies) to a KIND_URL_DIGESTS buffer. Canonicalizing here lets a
// bad URL be reported as unchecked instead of failing a whole batch.
//
// Thread-compatible: use one UrlDigester per thread (it reuses buffers); the
// PublicSuffixList may be shared.
#ifndef OPTOUT_CLIENT_DATASET_URL_DIGESTS_H_
#define OPTOUT_CLIENT_DATASET_URL_DIGESTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/common/protocol/url_digests.h"
#include "client/common/url/url.h"
#include "optout/v1/optout.pb.h"

namespace optout::dataset {

class UrlDigester {
 public:
  explicit UrlDigester(const url::PublicSuffixList& psl) : psl_(psl) {}

  // Appends the digests of `raw`'s lookup expressions to `*data` and returns
  // how many (>= 1). On a malformed URL, or one whose host cannot be a DNS
  // name (url/host_name_rule.h: such input is not a URL anyone fetched),
  // returns its InvalidArgument status ("KIND: reason", never the URL) and
  // leaves `*data` unchanged.
  absl::StatusOr<uint32_t> Append(absl::string_view raw, std::string* data);

 private:
  const url::PublicSuffixList& psl_;
  protocol::UrlDigests digests_;
};

// OK when the client's list is the one the server uses for scopes (the
// digests of scope expressions depend on it): the same SHA-256, or with a
// server that does not publish it, the same version. FailedPrecondition
// otherwise. Get the list with client::PublicSuffixListForServer.
absl::Status CheckPslMatchesServer(const url::PublicSuffixList& psl,
                                   const v1::GetInfoResponse& info);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_URL_DIGESTS_H_
