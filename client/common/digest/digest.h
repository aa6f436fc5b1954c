// File: client/common/digest/digest.h
//
// SHA-256 / MD5 digests and hex helpers shared by the client and the service.
// Pure functions; thread-safe. Nothing here depends on gRPC.
#ifndef OPTOUT_CLIENT_COMMON_DIGEST_DIGEST_H_
#define OPTOUT_CLIENT_COMMON_DIGEST_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::digest {

using Sha256Digest = std::array<uint8_t, 32>;
using Md5Digest = std::array<uint8_t, 16>;

Sha256Digest Sha256(absl::string_view data);
Md5Digest Md5(absl::string_view data);

// Lower-case hex of `bytes`.
std::string ToHex(absl::string_view bytes);
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& bytes) {
  return ToHex(absl::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

// Parses hex (either case) into bytes. InvalidArgument on odd length or a
// non-hex character; when `expected_bytes` > 0 the decoded length must match.
absl::StatusOr<std::string> FromHex(absl::string_view hex, size_t expected_bytes = 0);
// The same for a hot loop (a digest column, row after row): decodes into
// `*out`, reusing its buffer, and says only whether `hex` was hex of even
// length (`*out` is unspecified when not).
bool HexInto(absl::string_view hex, std::string* out);

inline absl::string_view AsStringView(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}
inline absl::string_view AsStringView(const Md5Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace optout::digest

#endif  // OPTOUT_CLIENT_COMMON_DIGEST_DIGEST_H_
