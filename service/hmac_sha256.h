// File: service/hmac_sha256.h
//
// HMAC-SHA256 with the key schedule done once: the inner and outer SHA-256
// states after absorbing the padded key are kept, so each MAC of a short
// message costs two compression calls and no allocation. The check path keys
// millions of digests per second with this.
//
// Immutable after construction; Mac() is thread-safe.
#ifndef OPTOUT_SERVICE_HMAC_SHA256_H_
#define OPTOUT_SERVICE_HMAC_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "client/common/digest/sha256_blocks.h"

namespace optout::service {

using Mac32 = std::array<uint8_t, 32>;

class HmacSha256 final {
 public:
  explicit HmacSha256(const std::array<uint8_t, 32>& key);
  Mac32 Mac(absl::string_view message) const;
  // SHA-256(key block || message): HMAC's inner hash alone, one compression
  // for up to 55 bytes, half the cost of Mac. A PRF only when every message
  // given to one key has the same length (then no extension applies), so
  // callers must fix the length; used where answers carry many values.
  Mac32 FixedLengthPrf(absl::string_view message) const;
  // out[i] = Mac(message i) for `count` messages of `length` bytes each
  // (length <= 55: one block), back to back at `messages`. Several MACs
  // run in lockstep (client/common/digest/sha256_blocks.h): the check path
  // keys each request's digests with one call, at ~half the cost of Mac()
  // per message.
  void MacMany(const char* messages, size_t length, size_t count, Mac32* out) const;

 private:
  // Opaque copies of OpenSSL SHA256_CTX (kept as bytes so this header does
  // not pull in the deprecated low-level API).
  alignas(8) std::array<uint8_t, 112> inner_{};
  alignas(8) std::array<uint8_t, 112> outer_{};
  // The same two states as chaining words, for MacMany.
  digest::Sha256State inner_words_{}, outer_words_{};
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_HMAC_SHA256_H_
