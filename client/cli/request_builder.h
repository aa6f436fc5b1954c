// File: client/cli/request_builder.h
//
// Turns the item flags of `register` and `check` into requests, for every
// command alike: hex of --pdq/--sha256/--md5 into wire bytes (errors name the
// flag), --image files hashed here into PDQ/SHA-256/MD5 items (only hashes
// leave the machine; below the server's minimum PDQ quality only the file
// digests, with a note), URLs and scopes as typed (the server canonicalizes).
// All hex is checked before the server is asked anything.
#ifndef OPTOUT_CLIENT_CLI_REQUEST_BUILDER_H_
#define OPTOUT_CLIENT_CLI_REQUEST_BUILDER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/item_flags.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"
#include "optout/v1/optout.pb.h"

namespace optout::cli {

// The server's PDQ quality floors (minimum, low-quality tier); called only
// when there are images.
using PdqFloorsFn = std::function<absl::StatusOr<protocol::PdqQualityFloors>()>;

// Asks the server (GetInfo); the protocol default when it does not say, and
// no low-quality tier when it has none.
absl::StatusOr<protocol::PdqQualityFloors> ServerPdqFloors(client::RegistryClient& client);

// Hex of a --pdq (64 digits, reference order), --sha256 or --md5 value ->
// the bytes a request carries. InvalidArgument naming the flag otherwise.
absl::StatusOr<std::string> HexItemBytes(ItemKind kind, absl::string_view hex);

// `status` of hashing an image, with a hint when the image was refused for
// its size: which flag raises the limit.
absl::Status WithPixelLimitHint(const absl::Status& status);

// A check request with one or more request items per command-line item.
struct CheckPlan {
  struct Span {
    int first = 0;  // index of the item's first request item (and result)
    int count = 0;  // 1, or 2-3 for an image (PDQ if usable, SHA-256, MD5)
    // Why the item cannot be checked (count 0): an image that cannot be
    // read or decoded, a URL that does not canonicalize or whose host is no
    // DNS name (url/host_name_rule.h). OK otherwise.
    absl::Status error;
  };
  v1::CheckRequest request;
  std::vector<Span> spans;  // spans[i] belongs to items[i]
};

// `items` in command-line order; the request follows it. An item that
// cannot be checked gets an error span and the others are still checked.
// Errors: malformed hex (InvalidArgument naming the flag), scopes (not
// checkable), or the server's status when asked for its PDQ minimum.
// Images larger than `max_pixels` are error items (with the --max-pixels hint).
absl::StatusOr<CheckPlan> BuildCheckRequest(const std::vector<ItemArg>& items,
                                            const PdqFloorsFn& pdq_floors,
                                            int64_t max_pixels = kDefaultMaxPixels);

// Every value of `flags`; with `dihedral` an image also brings its distinct
// rotated/mirrored PDQ hashes. `registered` receives what the receipt keeps:
// the values as typed and, per image, its file name and hashes.
absl::StatusOr<v1::RegisterRequest> BuildRegisterRequest(const ItemFlags& flags,
                                                         const std::string& request_id,
                                                         bool dihedral,
                                                         const PdqFloorsFn& pdq_floors,
                                                         nlohmann::ordered_json* registered);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_REQUEST_BUILDER_H_
