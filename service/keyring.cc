#include "service/keyring.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::service {
namespace {

using Key32 = std::array<uint8_t, 32>;

absl::StatusOr<Key32> Hkdf(const SecretBytes& secret, const std::string& info) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return absl::InternalError("HKDF unavailable in OpenSSL");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return absl::InternalError("HKDF context allocation failed");
  static const char kSalt[] = "optout-registry hkdf salt";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt),
                                        sizeof(kSalt) - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end(),
  };
  Key32 out{};
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return absl::InternalError("HKDF derivation failed");
  return out;
}

}  // namespace

absl::StatusOr<Keyring> Keyring::Derive(const SecretBytes& secret, uint32_t key_version) {
  if (key_version == 0) return absl::InvalidArgumentError("key version 0 does not exist");
  // Each key depends only on the secret and its own purpose string, so these
  // strings are part of the on-disk format: changing one orphans every
  // stored record. (v1 also named a "manage-token" purpose that was never
  // used; dropping it changed no other key.)
  const std::string version = absl::StrCat(" v", key_version);
  OPTOUT_ASSIGN_OR_RETURN(const Key32 url, Hkdf(secret, absl::StrCat("url-index", version)));
  OPTOUT_ASSIGN_OR_RETURN(const Key32 file, Hkdf(secret, absl::StrCat("file-index", version)));
  OPTOUT_ASSIGN_OR_RETURN(const Key32 request,
                          Hkdf(secret, absl::StrCat("request-id", version)));
  OPTOUT_ASSIGN_OR_RETURN(const Key32 record,
                          Hkdf(secret, absl::StrCat("record-encryption", version)));
  // api-key (added with API keys) is a purpose of its own, so adding it left
  // every earlier key, and so every stored record, unchanged.
  OPTOUT_ASSIGN_OR_RETURN(const Key32 api_key, Hkdf(secret, absl::StrCat("api-key", version)));
  // match-id likewise (added with unlinkable answers); no stored record
  // depends on it, since match ids are computed, never stored.
  OPTOUT_ASSIGN_OR_RETURN(const Key32 match_id, Hkdf(secret, absl::StrCat("match-id", version)));
  // receipt-signing (issue 14): the Ed25519 seed of check receipts; a purpose
  // of its own, so adding it changed no other key.
  OPTOUT_ASSIGN_OR_RETURN(const Key32 receipt_seed,
                          Hkdf(secret, absl::StrCat("receipt-signing", version)));
  OPTOUT_ASSIGN_OR_RETURN(
      std::shared_ptr<const receipt::ReceiptSigner> receipt_signer,
      receipt::ReceiptSigner::FromSeed(absl::string_view(
          reinterpret_cast<const char*>(receipt_seed.data()), receipt_seed.size())));
  // key-check names the (secret, version) pair; it keys nothing.
  OPTOUT_ASSIGN_OR_RETURN(const Key32 check, Hkdf(secret, absl::StrCat("key-check", version)));
  return Keyring(key_version, std::string(check.begin(), check.begin() + 16), HmacSha256(url), HmacSha256(file), HmacSha256(request), HmacSha256(api_key),
                 HmacSha256(match_id), RecordCipher(record), std::move(receipt_signer));
}

}  // namespace optout::service
