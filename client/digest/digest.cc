#include "client/digest/digest.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"

namespace optout::digest {
namespace {

// OpenSSL 3 looks the implementation up again on every
// EVP_Digest(EVP_sha256(), ...) call, which costs more than hashing a short
// string (~350 ns vs ~125 ns for a URL expression). So each algorithm is
// fetched once and each thread reuses one context.
const EVP_MD* Fetched(const char* name, const EVP_MD* fallback) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : fallback;
}

struct ThreadContext {
  ThreadContext() : ctx(EVP_MD_CTX_new()) {}
  ~ThreadContext() { EVP_MD_CTX_free(ctx); }
  EVP_MD_CTX* ctx;
};

template <size_t N>
std::array<uint8_t, N> EvpDigest(const EVP_MD* md, absl::string_view data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  // These only fail on allocation failure; the all-zero result would then be
  // visible in tests, never silently trusted by a match.
  thread_local ThreadContext context;
  if (context.ctx == nullptr || EVP_DigestInit_ex(context.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(context.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.ctx, out.data(), &len) != 1) {
    out.fill(0);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Sha256Digest Sha256(absl::string_view data) {
  static const EVP_MD* const md = Fetched("SHA256", EVP_sha256());
  return EvpDigest<32>(md, data);
}
Md5Digest Md5(absl::string_view data) {
  static const EVP_MD* const md = Fetched("MD5", EVP_md5());
  return EvpDigest<16>(md, data);
}

std::string ToHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

absl::StatusOr<std::string> FromHex(absl::string_view hex, size_t expected_bytes) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("hex has odd length ", hex.size()));
  }
  if (expected_bytes > 0 && hex.size() != expected_bytes * 2) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", expected_bytes * 2,
                                                   " hex digits, got ", hex.size()));
  }
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat("not a hex digit at position ",
                                                     hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace optout::digest
