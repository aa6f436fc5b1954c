// File: service/record_cipher.h
//
// AES-256-GCM for the secret part of stored records. Each Seal draws a fresh
// random 96-bit nonce; the output is nonce || ciphertext || 16-byte tag. The
// associated data binds a ciphertext to its record id, so blobs cannot be
// swapped between records. Immutable; thread-safe.
#ifndef OPTOUT_SERVICE_RECORD_CIPHER_H_
#define OPTOUT_SERVICE_RECORD_CIPHER_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::service {

class RecordCipher final {
 public:
  explicit RecordCipher(const std::array<uint8_t, 32>& key) : key_(key) {}

  // Internal on a crypto library failure.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext, absl::string_view aad) const;
  // DataLoss when the blob is short, was altered, or belongs to another aad.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view aad) const;

 private:
  std::array<uint8_t, 32> key_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_RECORD_CIPHER_H_
