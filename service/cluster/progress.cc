#include "service/cluster/progress.h"

#include <cstring>
#include <string>

#include "client/common/digest/digest.h"

namespace optout::service::cluster {
namespace {

void PutBigEndian(uint64_t v, unsigned char out[8]) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v & 0xff);
}

}  // namespace

Progress Progress::Next(uint64_t next_sequence, absl::string_view bytes) const {
  Progress next;
  next.sequence = next_sequence;
  unsigned char seq[8];
  PutBigEndian(next_sequence, seq);
  // SHA-256(previous digest || big-endian sequence || message bytes).
  std::string chained;
  chained.reserve(digest.size() + sizeof(seq) + bytes.size());
  chained.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  chained.append(reinterpret_cast<const char*>(seq), sizeof(seq));
  chained.append(bytes.data(), bytes.size());
  const digest::Sha256Digest chained_digest = digest::Sha256(chained);
  std::memcpy(next.digest.data(), chained_digest.data(), next.digest.size());
  next.previous_digest = digest;
  next.knows_previous = true;
  return next;
}

bool Progress::Follows(uint64_t served_sequence, absl::string_view bytes) const {
  if (!knows_previous || sequence == 0 || served_sequence != sequence) return false;
  Progress before;
  before.sequence = sequence - 1;
  before.digest = previous_digest;
  return before.Next(sequence, bytes).digest == digest;
}

std::string Progress::Encode() const {
  std::string out(72, '\0');
  PutBigEndian(sequence, reinterpret_cast<unsigned char*>(out.data()));
  std::memcpy(out.data() + 8, digest.data(), digest.size());
  std::memcpy(out.data() + 40, previous_digest.data(), previous_digest.size());
  return out;
}

absl::StatusOr<Progress> Progress::Decode(absl::string_view bytes) {
  if (bytes.size() != 40 && bytes.size() != 72) {
    return absl::DataLossError("stored log progress has a wrong size");
  }
  Progress progress;
  for (int i = 0; i < 8; ++i) {
    progress.sequence = (progress.sequence << 8) | static_cast<unsigned char>(bytes[i]);
  }
  std::memcpy(progress.digest.data(), bytes.data() + 8, progress.digest.size());
  if (bytes.size() == 72) {
    std::memcpy(progress.previous_digest.data(), bytes.data() + 40, progress.previous_digest.size());
    progress.knows_previous = true;
  }
  return progress;
}

}  // namespace optout::service::cluster
