// File: web/wasm/md5.h
//
// Md5: RFC 1321 MD5 for the page's WebAssembly module, which has no
// OpenSSL and whose browser's WebCrypto has no MD5. The registry takes MD5
// of file bytes as an exact-copy digest only (never for security); the
// node test checks it against OpenSSL's on the test corpora.
// One object per digest; not thread-safe.
#ifndef OPTOUT_WEB_WASM_MD5_H_
#define OPTOUT_WEB_WASM_MD5_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace optout::web {

class Md5 final {
 public:
  Md5();
  void Update(const uint8_t* data, size_t size);
  // Pads and returns the 16-byte digest; the object must not be updated after.
  std::array<uint8_t, 16> Finish();

 private:
  void Block(const uint8_t* block);

  uint32_t state_[4];
  uint64_t length_ = 0;  // bytes so far
  uint8_t pending_[64];
  size_t pending_size_ = 0;
};

}  // namespace optout::web

#endif  // OPTOUT_WEB_WASM_MD5_H_
