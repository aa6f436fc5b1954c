// File: service/cluster/progress.h
//
// What a node has applied from the stream: the sequence of the last
// mutation and a digest chained over every mutation applied, stored in the
// same RocksDB batch as the mutation itself (storage::ProgressMark).
// Digest(n) = SHA-256(Digest(n-1) || big-endian seq(n) || message bytes(n)),
// Digest(0) = 32 zero bytes: nodes that applied the same messages agree.
#ifndef OPTOUT_SERVICE_CLUSTER_PROGRESS_H_
#define OPTOUT_SERVICE_CLUSTER_PROGRESS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::service::cluster {

struct Progress {
  uint64_t sequence = 0;
  std::array<uint8_t, 32> digest{};
  // Digest(sequence - 1), kept so that the message a stream serves at
  // `sequence` can be checked against the one applied there (Follows).
  std::array<uint8_t, 32> previous_digest{};
  bool knows_previous = false;  // false when decoded from the older 40 bytes

  // The progress after applying the message `bytes` at `sequence`.
  Progress Next(uint64_t next_sequence, absl::string_view bytes) const;
  // Whether `bytes` served at `served_sequence` == sequence is the message
  // applied there; false when it is another one (a stream replica holding
  // another history) or when that cannot be told (sequence 0, no previous).
  bool Follows(uint64_t served_sequence, absl::string_view bytes) const;
  std::string Encode() const;  // 72 bytes
  // Accepts 72 bytes, or the 40 (sequence and digest) of earlier builds.
  // DataLoss for bytes that are not an encoded Progress.
  static absl::StatusOr<Progress> Decode(absl::string_view bytes);
};

}  // namespace optout::service::cluster

#endif  // OPTOUT_SERVICE_CLUSTER_PROGRESS_H_
