// File: client/cli/server_address.h
//
// What --server (or $OPTOUT_SERVER, or a receipt's server) may say:
// HOST:PORT, or a URL people paste: http://HOST[:PORT][/] (plaintext) or
// https://HOST[:PORT][/] (TLS). Anything else with a scheme, a path or no
// port is refused with a message that says what is accepted.
#ifndef OPTOUT_CLIENT_CLI_SERVER_ADDRESS_H_
#define OPTOUT_CLIENT_CLI_SERVER_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace optout::cli {

struct ServerAddress {
  std::string target;  // HOST:PORT, as gRPC takes it
  bool tls = false;    // https:// was given
};

// http:// without a port means 80 and https:// 443; a bare HOST needs :PORT.
absl::StatusOr<ServerAddress> ParseServerAddress(absl::string_view given);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_SERVER_ADDRESS_H_
