#include "service/mutation_log.h"

#include <openssl/rand.h>

namespace optout::service {

absl::StatusOr<std::string> NewMutationId() {
  constexpr size_t kMutationIdBytes = 16;
  std::string id(kMutationIdBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(id.data()), kMutationIdBytes) != 1) {
    return absl::InternalError("no randomness for a mutation id");
  }
  return id;
}

}  // namespace optout::service
