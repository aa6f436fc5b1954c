// SHA-256 uses OpenSSL's low-level SHA256_* calls, deprecated in OpenSSL 3
// in favour of EVP. They are kept on purpose: the check path digests ~10 URL
// expressions of ~40 bytes per URL, where EVP's per-call dispatch costs more
// than the hash itself (measured: EVP ~170 ns, low-level ~120 ns, one
// SHA256_Transform for a single padded block less again; SHA-NI in all).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "client/common/digest/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace optout::digest {
namespace {

// OpenSSL 3 looks the implementation up again on every
// EVP_Digest(EVP_md5(), ...) call, which costs more than hashing a short
// string. So the algorithm is fetched once and each thread reuses one context.
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

// Longest message whose padding still fits the same 64-byte block.
constexpr size_t kSha256OneBlockMax = 55;

constexpr int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Sha256Digest Sha256(absl::string_view data) {
  Sha256Digest out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  if (data.size() <= kSha256OneBlockMax) {
    // The message, 0x80 and the 64-bit bit length fit one block: pad by hand
    // and run a single compression.
    // The length goes in with one 8-byte store and the state comes out in
    // words: written byte by byte (likely defeating store forwarding into
    // the transform's wide loads) this path measured ~25% slower, and
    // slower than SHA256_Update/Final too.
    alignas(64) unsigned char block[SHA256_CBLOCK] = {};
    std::memcpy(block, data.data(), data.size());
    block[data.size()] = 0x80;
    const uint64_t bits = __builtin_bswap64(static_cast<uint64_t>(data.size()) * 8);
    std::memcpy(block + 56, &bits, sizeof(bits));
    SHA256_Transform(&ctx, block);
    for (int i = 0; i < 8; ++i) {
      const uint32_t word = __builtin_bswap32(ctx.h[i]);
      std::memcpy(out.data() + 4 * i, &word, sizeof(word));
    }
    return out;
  }
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(out.data(), &ctx);
  return out;
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

bool HexInto(absl::string_view hex, std::string* out) {
  // A table, not HexValue's branches: digits and letters of random digests
  // mix unpredictably, and the mispredictions made this ~4 % of a Parquet
  // check's client CPU (one md5 per row).
  static constexpr auto kValue = [] {
    std::array<int8_t, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<int8_t>(HexValue(static_cast<char>(c)));
    return t;
  }();
  if (hex.size() % 2 != 0) return false;
  out->resize(hex.size() / 2);
  const auto* in = reinterpret_cast<const uint8_t*>(hex.data());
  char* bytes = out->data();
  int bad = 0;
  for (size_t i = 0; i < out->size(); ++i) {
    const int hi = kValue[in[2 * i]];
    const int lo = kValue[in[2 * i + 1]];
    bad |= hi | lo;  // negative when either is not a hex digit
    bytes[i] = static_cast<char>(((hi & 15) << 4) | (lo & 15));
  }
  return bad >= 0;
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
