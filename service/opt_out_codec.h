// File: service/opt_out_codec.h
//
// Turns a RegisterRequest into what is stored (salted index keys plus an
// encrypted part) and a stored record back into what the index serves.
// Nothing raw leaves these functions in clear: URLs become SHA-256 digests of
// their expressions, then HMAC keys; PDQ hashes and digests are sealed.
#ifndef OPTOUT_SERVICE_OPT_OUT_CODEC_H_
#define OPTOUT_SERVICE_OPT_OUT_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/common/url/url.h"
#include "optout/internal/record.pb.h"
#include "optout/v1/optout.pb.h"
#include "service/keyring.h"
#include "service/match_index.h"

namespace optout::service {

// Where the request's items went: urls[i] is the stored position (in
// SealedPart.url_digests) of request.urls(i), and so on; repeats share one.
struct ItemPositions {
  std::vector<int> urls, scopes, pdq, sha256, md5, url_any_query;
};

// Canonicalizes URLs and scopes into expression digests; copies PDQ hashes
// and file digests. Identical items (after canonicalization) are kept once,
// in first-seen order. InvalidArgument names the field ("scopes[1]: ...").
// PDQ hashes of quality below `min_pdq_quality` are marked low-quality
// (SealedPart.pdq_low_quality), and so are regions whose own quality
// (PdqHash.region_quality) is (SealedPart.pdq_region_low_quality).
absl::StatusOr<internal::SealedPart> SaltableContent(
    const v1::RegisterRequest& request, const url::PublicSuffixList& psl,
    ItemPositions* positions = nullptr,
    int min_pdq_quality = protocol::kDefaultMinPdqQuality);

// Keyed fingerprint of the content (not of the token): equal for a retry.
std::string Fingerprint(const Keyring& keyring, const internal::SealedPart& content);

// Key of the "requests" family for a client request id ("" for none).
std::string RequestKey(const Keyring& keyring, absl::string_view request_id);

// A record of `keyring.version()`; its token hash is of content.manage_token().
absl::StatusOr<internal::OptOutRecord> BuildRecord(const Keyring& keyring, absl::string_view id,
                                                   const internal::SealedPart& content,
                                                   absl::string_view request_key,
                                                   absl::string_view fingerprint,
                                                   int64_t created_unix_seconds);

absl::StatusOr<internal::SealedPart> OpenSealed(const Keyring& keyring, absl::string_view id,
                                                const internal::OptOutRecord& record);

// What the index serves of a record: every entry and PDQ hash, except
// scopes whose host is not proven (see scope_proofs.h) when `matching_only`.
absl::StatusOr<IndexedOptOut> IndexedFromRecord(const Keyring& keyring, absl::string_view id,
                                                const internal::OptOutRecord& record,
                                                bool matching_only = true);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_OPT_OUT_CODEC_H_
