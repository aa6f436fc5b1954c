#include "service/batch_fingerprint.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>

namespace optout::service {
namespace {

// The MAC algorithm, fetched once (a fetch by name walks the providers).
EVP_MAC* Gmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "GMAC", nullptr);
  return mac;
}

}  // namespace

// GMAC with a fixed IV: safe here because the tag is never revealed and
// every key is fresh per session part (GHASH is then an almost-universal
// hash of the framed bytes under a secret point).
struct BatchFingerprint::Mac {
  EVP_MAC_CTX* ctx = nullptr;
};

BatchFingerprintKey BatchFingerprint::NewKey() {
  BatchFingerprintKey key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) key.fill(0);
  return key;
}

BatchFingerprint::BatchFingerprint(const BatchFingerprintKey& key) : mac_(new Mac) {
  static const unsigned char kIv[12] = {};
  char cipher[] = "AES-128-GCM";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, const_cast<unsigned char*>(kIv),
                                        sizeof(kIv)),
      OSSL_PARAM_construct_end()};
  mac_->ctx = Gmac() != nullptr ? EVP_MAC_CTX_new(Gmac()) : nullptr;
  if (mac_->ctx != nullptr && EVP_MAC_init(mac_->ctx, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(mac_->ctx);
    mac_->ctx = nullptr;
  }
}

BatchFingerprint::~BatchFingerprint() {
  EVP_MAC_CTX_free(mac_->ctx);
  delete mac_;
}

void BatchFingerprint::Feed(int stream, const void* data, size_t n) {
  if (mac_->ctx == nullptr) return;
  unsigned char frame[9];
  frame[0] = static_cast<unsigned char>(stream);
  const uint64_t length = n;
  std::memcpy(frame + 1, &length, 8);
  EVP_MAC_update(mac_->ctx, frame, sizeof(frame));
  EVP_MAC_update(mac_->ctx, static_cast<const unsigned char*>(data), n);
}

BatchFingerprintTag BatchFingerprint::Finish() {
  BatchFingerprintTag tag{};
  size_t n = 0;
  // Without a MAC (OpenSSL lacks GMAC) every tag is zero: re-sends are then
  // matched by batch number only, as before fingerprints.
  if (mac_->ctx != nullptr) EVP_MAC_final(mac_->ctx, tag.data(), &n, tag.size());
  return tag;
}

BatchFingerprintTag FingerprintOf(const v1::CheckRequest& request, int min_pdq_quality,
                                  const BatchFingerprintKey& key) {
  BatchFingerprint fingerprint(key);
  receipt::ItemsDigest scratch(min_pdq_quality);
  scratch.Add(request, &fingerprint);
  return fingerprint.Finish();
}

}  // namespace optout::service
