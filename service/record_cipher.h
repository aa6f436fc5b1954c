// File: service/record_cipher.h
//
// AES-256-GCM for the secret part of stored records. Each Seal draws a fresh
// random 96-bit nonce; the output is nonce || ciphertext || 16-byte tag. The
// associated data binds a ciphertext to its record id, so blobs cannot be
// swapped between records.
//
// Opening every record is on the start-up path (10M records at load), where
// OpenSSL 3's per-call cipher fetch and key schedule cost three times the
// decryption itself; so the cipher keeps keyed OpenSSL contexts for reuse
// and each call only sets its nonce.
//
// Thread-safe: Seal and Open may run on any threads at once.
#ifndef OPTOUT_SERVICE_RECORD_CIPHER_H_
#define OPTOUT_SERVICE_RECORD_CIPHER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::service {

class RecordCipher final {
 public:
  explicit RecordCipher(const std::array<uint8_t, 32>& key);
  ~RecordCipher();
  // A copy has the same key and contexts of its own.
  RecordCipher(const RecordCipher& other);
  RecordCipher& operator=(const RecordCipher&) = delete;
  RecordCipher(RecordCipher&&) noexcept;
  RecordCipher& operator=(RecordCipher&&) = delete;

  // Internal on a crypto library failure.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext, absl::string_view aad) const;
  // DataLoss when the blob is short, was altered, or belongs to another aad.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view aad) const;

 private:
  class ContextPool;

  std::array<uint8_t, 32> key_;
  std::unique_ptr<ContextPool> encrypting_;
  std::unique_ptr<ContextPool> decrypting_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_RECORD_CIPHER_H_
