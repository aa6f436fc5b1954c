// File: service/keyring.h
//
// Purpose keys derived from the registry secret with HKDF-SHA256, one per
// purpose and key version, so that no key is ever used for two jobs.
// Immutable after construction; thread-safe.
#ifndef OPTOUT_SERVICE_KEYRING_H_
#define OPTOUT_SERVICE_KEYRING_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "client/common/receipt/check_receipt.h"
#include "service/hmac_sha256.h"
#include "service/record_cipher.h"
#include "service/registry_secret.h"

namespace optout::service {

class Keyring final {
 public:
  // Version of a database that never rotated its keys; stored with every
  // record so a rotation can tell old records from new ones.
  static constexpr uint32_t kKeyVersion = 1;

  // Every purpose key of `version` (>= 1): each version is a fresh set of
  // keys from the same secret, and a new secret starts the next version
  // (service/key_rotation.h). InvalidArgument for version 0.
  static absl::StatusOr<Keyring> Derive(const SecretBytes& secret,
                                        uint32_t version = kKeyVersion);

  uint32_t version() const { return version_; }
  // 16 bytes that tell this (secret, version) apart from any other without
  // revealing a key: the database keeps it to refuse a wrong secret file.
  const std::string& check_value() const { return check_value_; }

  // HMAC over SHA-256 digests of URL expressions and scopes.
  const HmacSha256& url_key() const { return url_key_; }
  // HMAC over SHA-256 / MD5 digests of file bytes.
  const HmacSha256& file_key() const { return file_key_; }
  // HMAC over client request ids and request content fingerprints.
  const HmacSha256& request_key() const { return request_key_; }
  // Hashes API keys: the store keeps HMAC(api_key_key, key), never the key.
  const HmacSha256& api_key_key() const { return api_key_key_; }
  // Public match ids of registered items (service/match_id.h).
  const HmacSha256& match_id_key() const { return match_id_key_; }
  // AES-256-GCM for the secret part of each record (PDQ hashes, digests).
  const RecordCipher& record_cipher() const { return record_cipher_; }
  // Signs check receipts (issue 14): Ed25519 from the seed HKDF derives for
  // "receipt-signing vN". Public: GetInfo publishes its key.
  const receipt::ReceiptSigner& receipt_signer() const { return *receipt_signer_; }

 private:
  Keyring(uint32_t version, std::string check_value, HmacSha256 url, HmacSha256 file,
          HmacSha256 request, HmacSha256 api_key, HmacSha256 match_id, RecordCipher cipher,
          std::shared_ptr<const receipt::ReceiptSigner> receipt_signer)
      : version_(version), check_value_(std::move(check_value)), url_key_(url), file_key_(file),
        request_key_(request), api_key_key_(api_key), match_id_key_(match_id),
        record_cipher_(cipher), receipt_signer_(std::move(receipt_signer)) {}
  uint32_t version_;
  std::string check_value_;
  HmacSha256 url_key_, file_key_, request_key_, api_key_key_, match_id_key_;
  RecordCipher record_cipher_;
  std::shared_ptr<const receipt::ReceiptSigner> receipt_signer_;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_KEYRING_H_
