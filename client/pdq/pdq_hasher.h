// File: client/pdq/pdq_hasher.h
//
// HashPixels: the PDQ core (pdq_core.h) with Status errors, for native
// callers. Pure function; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_PDQ_HASHER_H_
#define OPTOUT_CLIENT_PDQ_PDQ_HASHER_H_

#include "absl/status/statusor.h"
#include "client/pdq/image.h"
#include "client/pdq/pdq_core.h"

namespace optout::pdq {

// Hashes `image` as given (no pre-scale).
// Errors: InvalidArgument if channels is not 1 or 3, the pixel buffer does not
// match the size, or a side is shorter than kMinHashableSide.
absl::StatusOr<PdqResult> HashPixels(const Image& image, bool with_dihedral);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_PDQ_HASHER_H_
