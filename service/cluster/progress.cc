#include "service/cluster/progress.h"

#include <openssl/sha.h>

#include <cstring>

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
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, digest.data(), digest.size());
  SHA256_Update(&ctx, seq, sizeof(seq));
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  SHA256_Final(next.digest.data(), &ctx);
  return next;
}

std::string Progress::Encode() const {
  std::string out(40, '\0');
  PutBigEndian(sequence, reinterpret_cast<unsigned char*>(out.data()));
  std::memcpy(out.data() + 8, digest.data(), digest.size());
  return out;
}

absl::StatusOr<Progress> Progress::Decode(absl::string_view bytes) {
  if (bytes.size() != 40) return absl::DataLossError("stored log progress has a wrong size");
  Progress progress;
  for (int i = 0; i < 8; ++i) {
    progress.sequence = (progress.sequence << 8) | static_cast<unsigned char>(bytes[i]);
  }
  std::memcpy(progress.digest.data(), bytes.data() + 8, progress.digest.size());
  return progress;
}

}  // namespace optout::service::cluster
