// File: service/record_rekey.h
//
// Moves one stored opt-out record from one key version to another without
// any raw input: the sealed part holds every digest (and PDQ hash) the index
// keys were made from, so they are re-keyed, re-sealed and re-fingerprinted
// under the new keyring. What stays: id, creation time, token hash, PDQ
// count, token erasure. Pure: no store, no index.
#ifndef OPTOUT_SERVICE_RECORD_REKEY_H_
#define OPTOUT_SERVICE_RECORD_REKEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "optout/internal/record.pb.h"
#include "service/keyring.h"
#include "service/match_index.h"

namespace optout::service {

struct RekeyedRecord {
  internal::OptOutRecord record;  // under the new version
  // Key under which the "requests" family must name this id from now on:
  // re-derived from the sealed request id; empty when the record had none,
  // or was written before request ids were sealed (its retry is then lost).
  std::string request_key;
  // Index keys before and after (same kinds, same order); PDQ codes are
  // not keyed, so neither carries any.
  IndexedOptOut before, after;
};

// DataLoss when the record does not open under `from` (wrong version or
// secret, or damage); InvalidArgument when it is not of from.version().
absl::StatusOr<RekeyedRecord> RekeyRecord(const Keyring& from, const Keyring& to,
                                          absl::string_view id,
                                          const internal::OptOutRecord& record);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_RECORD_REKEY_H_
