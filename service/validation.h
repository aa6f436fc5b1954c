// File: service/validation.h
//
// Shape checks of requests, before any work is done. Every error is
// InvalidArgument and names the field path and item index, e.g.
// "items[3].pdq.hash: must be 32 bytes, got 31". Pure functions.
// URL syntax is checked later, where URLs are canonicalized.
#ifndef OPTOUT_SERVICE_VALIDATION_H_
#define OPTOUT_SERVICE_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/common/base/with_field.h"
#include "optout/v1/optout.pb.h"
#include "service/registry_options.h"

namespace optout::service {

// A real PDQ hash sets a bit where its DCT coefficient exceeds the median,
// so about half its bits are set. Measured on 1,113 test images (the PDQ
// images under tests/testdata plus the team's wider photo corpus, each
// with its 8 dihedral variants): popcount 125..128 at quality >= 50, down
// to 73 for flat images of quality 0. Hashes outside these bounds (a wide
// margin around that) are refused: they are forged or broken, and near-blank
// ones match each other.
inline constexpr int kMinPdqPopcount = 96;
inline constexpr int kMaxPdqPopcount = 160;

// A request_id names a registration to whoever knows it (a retry returns its
// manage token), so it must be a secret with at least 128 bits of client
// randomness: 22+ base64url characters, or 32+ hex digits.
inline constexpr size_t kMinRequestIdBase64Chars = 22;
inline constexpr size_t kMinRequestIdHexChars = 32;

// `field` prefixes the message; `for_registration` makes the quality
// mandatory (a check may omit it).
absl::Status ValidatePdqHash(absl::string_view field, const v1::PdqHash& pdq,
                             const RegistryOptions& options, bool for_registration);
// 32 bytes with a popcount within [kMinPdqPopcount, kMaxPdqPopcount].
absl::Status ValidatePdqBytes(absl::string_view field, absl::string_view hash);
// Empty (no retry semantics) or a secret as described above.
absl::Status ValidateRequestId(absl::string_view request_id);
absl::Status ValidateDigest(absl::string_view field, absl::string_view digest, size_t size);

absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request,
                                     const RegistryOptions& options);
absl::Status ValidateCheckRequest(const v1::CheckRequest& request,
                                  const RegistryOptions& options);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_VALIDATION_H_
