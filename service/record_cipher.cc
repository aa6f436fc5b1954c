#include "service/record_cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace optout::service {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up in its provider
// tables on every EVP_aes_256_gcm() initialisation.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

}  // namespace

// Keyed contexts for one direction, lent to one call at a time. The pool
// grows to the number of threads that ever used it at once.
class RecordCipher::ContextPool {
 public:
  ContextPool(const std::array<uint8_t, 32>& key, bool encrypt) : key_(key), encrypt_(encrypt) {}
  ~ContextPool() {
    for (EVP_CIPHER_CTX* ctx : idle_) EVP_CIPHER_CTX_free(ctx);
  }

  // A context holding the key, or null on a library failure.
  EVP_CIPHER_CTX* Borrow() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        EVP_CIPHER_CTX* ctx = idle_.back();
        idle_.pop_back();
        return ctx;
      }
    }
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const int keyed =
        ctx == nullptr || Aes256Gcm() == nullptr
            ? 0
            : encrypt_ ? EVP_EncryptInit_ex2(ctx, Aes256Gcm(), key_.data(), nullptr, nullptr)
                       : EVP_DecryptInit_ex2(ctx, Aes256Gcm(), key_.data(), nullptr, nullptr);
    if (keyed != 1) {
      EVP_CIPHER_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }
  void Return(EVP_CIPHER_CTX* ctx) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(ctx);
  }

  // One call's use of a context. A context a call failed with is freed
  // rather than lent again, whatever state OpenSSL left it in.
  class Lease {
   public:
    explicit Lease(ContextPool* pool) : pool_(pool), ctx_(pool->Borrow()) {}
    ~Lease() {
      if (ctx_ == nullptr) return;
      if (failed_) {
        EVP_CIPHER_CTX_free(ctx_);
      } else {
        pool_->Return(ctx_);
      }
    }
    EVP_CIPHER_CTX* get() const { return ctx_; }
    void Fail() { failed_ = true; }

   private:
    ContextPool* const pool_;
    EVP_CIPHER_CTX* const ctx_;
    bool failed_ = false;
  };

 private:
  const std::array<uint8_t, 32> key_;
  const bool encrypt_;
  absl::Mutex mu_;
  std::vector<EVP_CIPHER_CTX*> idle_ ABSL_GUARDED_BY(mu_);
};

RecordCipher::RecordCipher(const std::array<uint8_t, 32>& key)
    : key_(key),
      encrypting_(std::make_unique<ContextPool>(key, true)),
      decrypting_(std::make_unique<ContextPool>(key, false)) {}
RecordCipher::~RecordCipher() = default;
RecordCipher::RecordCipher(const RecordCipher& other) : RecordCipher(other.key_) {}
RecordCipher::RecordCipher(RecordCipher&&) noexcept = default;

absl::StatusOr<std::string> RecordCipher::Seal(absl::string_view plaintext,
                                               absl::string_view aad) const {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes, kNonceBytes) != 1) return absl::InternalError("no randomness for nonce");
  ContextPool::Lease ctx(encrypting_.get());
  int len = 0;
  if (ctx.get() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), nullptr, nullptr, bytes, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + kNonceBytes + plaintext.size()) != 1) {
    ctx.Fail();
    return absl::InternalError("record encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> RecordCipher::Open(absl::string_view sealed,
                                               absl::string_view aad) const {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("sealed record too short");
  }
  const size_t body = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(body, '\0');
  ContextPool::Lease ctx(decrypting_.get());
  int len = 0;
  const unsigned char* in = U(sealed);
  auto* tag = const_cast<unsigned char*>(in + kNonceBytes + body);
  if (ctx.get() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), nullptr, nullptr, in, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        in + kNonceBytes, static_cast<int>(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    ctx.Fail();
    return absl::DataLossError("sealed record failed authentication");
  }
  return out;
}

}  // namespace optout::service
