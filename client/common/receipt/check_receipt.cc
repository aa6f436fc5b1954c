#include "client/common/receipt/check_receipt.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::receipt {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;

void PutBytes(absl::string_view bytes, std::string* out) {
  // Every field is short (hex fingerprint, session id, digest); longer ones
  // are cut at 255, which changes the signed bytes and so fails verification.
  const size_t n = std::min<size_t>(bytes.size(), 255);
  out->push_back(static_cast<char>(n));
  out->append(bytes.data(), n);
}

void PutU64(uint64_t v, std::string* out) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

}  // namespace

std::string SignedBytes(const v1::CheckReceipt& r) {
  std::string out = "optout check receipt v1\n";
  PutBytes(r.key_fingerprint(), &out);
  PutBytes(r.session_id(), &out);
  PutU64(static_cast<uint64_t>(r.started_unix_micros()), &out);
  PutU64(static_cast<uint64_t>(r.ended_unix_micros()), &out);
  PutU64(r.min_version(), &out);
  PutU64(r.max_version(), &out);
  for (uint64_t v : {r.url_items(), r.pdq_items(), r.sha256_items(), r.md5_items(),
                     r.matched_items(), r.url_matches(), r.pdq_matches(), r.sha256_matches(),
                     r.md5_matches()}) {
    PutU64(v, &out);
  }
  PutBytes(r.items_digest(), &out);
  return out;
}

std::string KeyFingerprint(absl::string_view public_key) {
  return digest::ToHex(digest::Sha256(public_key));
}

struct ReceiptSigner::Key {
  Pkey pkey;
};

ReceiptSigner::ReceiptSigner(std::unique_ptr<Key> key, std::string public_key)
    : key_(std::move(key)),
      public_key_(std::move(public_key)),
      fingerprint_(KeyFingerprint(public_key_)) {}

ReceiptSigner::~ReceiptSigner() = default;

absl::StatusOr<std::shared_ptr<const ReceiptSigner>> ReceiptSigner::FromSeed(
    absl::string_view seed) {
  if (seed.size() != kKeyBytes) return absl::InvalidArgumentError("receipt seed must be 32 bytes");
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                         reinterpret_cast<const uint8_t*>(seed.data()),
                                         seed.size()));
  if (pkey == nullptr) return absl::InternalError("Ed25519 key creation failed in OpenSSL");
  std::string public_key(kKeyBytes, '\0');
  size_t len = public_key.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<uint8_t*>(public_key.data()),
                                  &len) != 1 ||
      len != kKeyBytes) {
    return absl::InternalError("Ed25519 public key extraction failed in OpenSSL");
  }
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return std::shared_ptr<const ReceiptSigner>(new ReceiptSigner(std::move(key), public_key));
}

absl::Status ReceiptSigner::Sign(v1::CheckReceipt* receipt) const {
  receipt->set_key_fingerprint(fingerprint_);
  const std::string tbs = SignedBytes(*receipt);
  MdCtx ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureBytes, '\0');
  size_t len = signature.size();
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<uint8_t*>(signature.data()), &len,
                     reinterpret_cast<const uint8_t*>(tbs.data()), tbs.size()) != 1 ||
      len != kSignatureBytes) {
    return absl::InternalError("Ed25519 signing failed in OpenSSL");
  }
  receipt->set_signature(std::move(signature));
  return absl::OkStatus();
}

absl::Status VerifyReceipt(const v1::CheckReceipt& receipt, absl::string_view public_key) {
  if (public_key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("registry key must be 32 bytes (Ed25519), got ", public_key.size()));
  }
  const std::string fingerprint = KeyFingerprint(public_key);
  if (receipt.key_fingerprint() != fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        "wrong key: the receipt names registry key ", receipt.key_fingerprint(),
        ", the key given has fingerprint ", fingerprint));
  }
  if (receipt.signature().size() != kSignatureBytes) {
    return absl::InvalidArgumentError(absl::StrCat("receipt signature must be 64 bytes, got ",
                                                   receipt.signature().size()));
  }
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const uint8_t*>(public_key.data()),
                                        public_key.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return absl::InternalError("Ed25519 verification unavailable in OpenSSL");
  }
  const std::string tbs = SignedBytes(receipt);
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(receipt.signature().data()),
                       receipt.signature().size(), reinterpret_cast<const uint8_t*>(tbs.data()),
                       tbs.size()) != 1) {
    return absl::FailedPreconditionError(
        "bad signature: the receipt's fields are not what the registry signed (the receipt "
        "was altered)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParsePublicKey(absl::string_view content) {
  if (absl::StrContains(content, "-----BEGIN PUBLIC KEY-----")) {
    BIO* bio = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
    Pkey pkey(bio != nullptr ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr);
    BIO_free(bio);
    if (pkey == nullptr || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519) {
      return absl::InvalidArgumentError("registry key file: not an Ed25519 PEM public key");
    }
    std::string raw(kKeyBytes, '\0');
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<uint8_t*>(raw.data()), &len) != 1 ||
        len != kKeyBytes) {
      return absl::InvalidArgumentError("registry key file: cannot read the Ed25519 key");
    }
    return raw;
  }
  if (content.size() == kKeyBytes) return std::string(content);
  const absl::string_view hex = absl::StripAsciiWhitespace(content);
  auto raw = digest::FromHex(hex, kKeyBytes);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        "registry key file: want 64 hex characters, 32 raw bytes or a PEM public key");
  }
  return *raw;
}

absl::StatusOr<std::string> PublicKeyPem(absl::string_view public_key) {
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const uint8_t*>(public_key.data()),
                                        public_key.size()));
  if (pkey == nullptr) return absl::InvalidArgumentError("not a 32-byte Ed25519 public key");
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio, pkey.get()) != 1) {
    BIO_free(bio);
    return absl::InternalError("PEM encoding failed in OpenSSL");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

}  // namespace optout::receipt
