// The low-level SHA256_CTX API is deprecated in OpenSSL 3 in favour of EVP,
// but EVP offers no cheap way to clone a keyed state per message (each
// EVP_MD_CTX_copy goes through the provider and costs more than the hash).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "service/hmac_sha256.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace optout::service {

static_assert(sizeof(SHA256_CTX) <= 112, "SHA256_CTX grew; enlarge HmacSha256 state");

HmacSha256::HmacSha256(const std::array<uint8_t, 32>& key) {
  uint8_t ipad[SHA256_CBLOCK];
  uint8_t opad[SHA256_CBLOCK];
  std::memset(ipad, 0x36, sizeof(ipad));
  std::memset(opad, 0x5c, sizeof(opad));
  for (size_t i = 0; i < key.size(); ++i) {
    ipad[i] ^= key[i];
    opad[i] ^= key[i];
  }
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, ipad, sizeof(ipad));
  std::memcpy(inner_.data(), &ctx, sizeof(ctx));
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, opad, sizeof(opad));
  std::memcpy(outer_.data(), &ctx, sizeof(ctx));
  digest::Sha256State state = digest::Sha256InitialState();
  const uint8_t* block = ipad;
  digest::Sha256CompressMany(&state, &block, 1);
  inner_words_ = state;
  state = digest::Sha256InitialState();
  block = opad;
  digest::Sha256CompressMany(&state, &block, 1);
  outer_words_ = state;
}

void HmacSha256::MacMany(const char* messages, size_t length, size_t count, Mac32* out) const {
  if (length > digest::kSha256OneBlockMax) {
    for (size_t i = 0; i < count; ++i) out[i] = Mac(absl::string_view(messages + i * length, length));
    return;
  }
  // Batches of a few dozen keep the inner hashes in L1 between the passes.
  constexpr size_t kBatch = 32;
  digest::Sha256Tail tails[kBatch];
  digest::Sha256Digest inner[kBatch];
  for (size_t first = 0; first < count; first += kBatch) {
    const size_t n = std::min(kBatch, count - first);
    for (size_t i = 0; i < n; ++i) {
      tails[i] = {&inner_words_, reinterpret_cast<const uint8_t*>(messages) + (first + i) * length,
                  length, SHA256_CBLOCK};
    }
    digest::Sha256FinishMany(tails, n, inner);
    for (size_t i = 0; i < n; ++i) {
      tails[i] = {&outer_words_, inner[i].data(), inner[i].size(), SHA256_CBLOCK};
    }
    digest::Sha256FinishMany(tails, n, out + first);
  }
}

Mac32 HmacSha256::Mac(absl::string_view message) const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_.data(), sizeof(ctx));
  SHA256_Update(&ctx, message.data(), message.size());
  uint8_t inner_hash[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_hash, &ctx);
  std::memcpy(&ctx, outer_.data(), sizeof(ctx));
  SHA256_Update(&ctx, inner_hash, sizeof(inner_hash));
  Mac32 out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

Mac32 HmacSha256::FixedLengthPrf(absl::string_view message) const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_.data(), sizeof(ctx));
  SHA256_Update(&ctx, message.data(), message.size());
  Mac32 out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

}  // namespace optout::service
