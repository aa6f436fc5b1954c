#include "client/cli/cli_util.h"

#include <openssl/rand.h>

#include "client/common/digest/digest.h"

namespace optout::cli {

std::string NewRequestId() {
  uint8_t bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  return digest::ToHex(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace optout::cli
