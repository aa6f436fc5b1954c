// File: client/common/receipt/check_receipt.h
//
// A check receipt (v1::CheckReceipt) is what a registry signs at the end of
// a check session: its key fingerprint, the session id, start and end, the
// registry versions checked against, items answered by kind, matches and
// the ItemsDigest of the items answered. Both sides need the same bytes to
// sign and verify, so they are a fixed binary layout (SignedBytes), never a
// protobuf serialization (which is not canonical).
//
// ReceiptSigner holds an Ed25519 private key (OpenSSL 3 EVP), made from a
// 32-byte seed that optoutd derives from the registry secret
// (service/keyring.h). Immutable and thread-safe after construction.
#ifndef OPTOUT_CLIENT_COMMON_RECEIPT_CHECK_RECEIPT_H_
#define OPTOUT_CLIENT_COMMON_RECEIPT_CHECK_RECEIPT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "optout/v1/optout.pb.h"

namespace optout::receipt {

// The bytes Ed25519 signs: "optout check receipt v1\n", then each of
// fields 1..16 of CheckReceipt in field order (strings and bytes as u8
// length + bytes, integers as 8 bytes little-endian).
std::string SignedBytes(const v1::CheckReceipt& receipt);

// Lower-case hex SHA-256 of a raw 32-byte Ed25519 public key.
std::string KeyFingerprint(absl::string_view public_key);

class ReceiptSigner final {
 public:
  // InvalidArgument unless `seed` is 32 bytes; Internal when OpenSSL fails.
  static absl::StatusOr<std::shared_ptr<const ReceiptSigner>> FromSeed(absl::string_view seed);
  ~ReceiptSigner();
  ReceiptSigner(const ReceiptSigner&) = delete;
  ReceiptSigner& operator=(const ReceiptSigner&) = delete;

  // 32 raw bytes, and KeyFingerprint of them.
  const std::string& public_key() const { return public_key_; }
  const std::string& fingerprint() const { return fingerprint_; }

  // Sets receipt->key_fingerprint to this key's and fills its signature.
  absl::Status Sign(v1::CheckReceipt* receipt) const;

 private:
  struct Key;
  ReceiptSigner(std::unique_ptr<Key> key, std::string public_key);
  std::unique_ptr<Key> key_;
  std::string public_key_;
  std::string fingerprint_;
};

// Checks `receipt` against the raw 32-byte `public_key`. FailedPrecondition
// naming what differs: a receipt signed by a key of another fingerprint
// (wrong key), or a signature that does not match its fields (the receipt
// was altered). InvalidArgument for a key or signature of the wrong size.
absl::Status VerifyReceipt(const v1::CheckReceipt& receipt, absl::string_view public_key);

// Reads a public key file: 64 hex characters (optionally with a trailing
// newline), 32 raw bytes, or a PEM "PUBLIC KEY" of an Ed25519 key.
// InvalidArgument for anything else.
absl::StatusOr<std::string> ParsePublicKey(absl::string_view file_content);

// PEM "PUBLIC KEY" text of a raw 32-byte Ed25519 public key.
absl::StatusOr<std::string> PublicKeyPem(absl::string_view public_key);

}  // namespace optout::receipt

#endif  // OPTOUT_CLIENT_COMMON_RECEIPT_CHECK_RECEIPT_H_
