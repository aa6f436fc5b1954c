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

// `field` prefixes the message; `for_registration` enables the quality rule
// for a missing quality (registrations may omit it; then it is not checked).
absl::Status ValidatePdqHash(absl::string_view field, const v1::PdqHash& pdq,
                             const RegistryOptions& options, bool allow_dihedral);
absl::Status ValidatePdqBytes(absl::string_view field, absl::string_view hash);
absl::Status ValidateDigest(absl::string_view field, absl::string_view digest, size_t size);

absl::Status ValidateRegisterRequest(const v1::RegisterRequest& request,
                                     const RegistryOptions& options);
absl::Status ValidateCheckRequest(const v1::CheckRequest& request,
                                  const RegistryOptions& options);

// Number of items a packed group carries (after ValidateCheckRequest passed).
size_t PackedItemCount(const v1::PackedItems& packed);
// Bytes per item of a packed group (PDQ with dihedral: 9 × 32).
size_t PackedItemBytes(const v1::PackedItems& packed);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_VALIDATION_H_
