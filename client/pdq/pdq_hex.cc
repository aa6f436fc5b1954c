#include "client/pdq/pdq_hex.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/common/digest/digest.h"

namespace optout::pdq {

absl::StatusOr<PdqHash> PdqHashFromHex(absl::string_view hex) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("PDQ hash must be 64 hex digits, got ", hex.size(), " characters"));
  }
  absl::StatusOr<std::string> raw = digest::FromHex(hex, 32);
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("PDQ hash is not valid hex: ", raw.status().message()));
  }
  PdqHash hash;
  std::reverse_copy(raw->begin(), raw->end(), hash.bytes.begin());
  return hash;
}

}  // namespace optout::pdq
