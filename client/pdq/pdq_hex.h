// File: client/pdq/pdq_hex.h
//
// Parsing the hex form of a PDQ hash (pdq_hash.h, README.md#bits-and-hex),
// with a Status for callers that take hashes from people (--pdq HEX).
// Pure function; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_PDQ_HEX_H_
#define OPTOUT_CLIENT_PDQ_PDQ_HEX_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/pdq/pdq_hash.h"

namespace optout::pdq {

// Inverse of PdqHash::ToHex; accepts either case. InvalidArgument unless
// exactly 64 hex digits.
absl::StatusOr<PdqHash> PdqHashFromHex(absl::string_view hex);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_PDQ_HEX_H_
