// File: client/cli/cli_util.h
//
// Small pieces shared by the optout subcommands: error reporting, parsing
// hex arguments into request fields, and rendering results.
#ifndef OPTOUT_CLIENT_CLI_CLI_UTIL_H_
#define OPTOUT_CLIENT_CLI_CLI_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/command.h"
#include "optout/v1/optout.pb.h"

namespace optout::cli {

// Prints "optout <command>: <message> [CODE]" on one line to stderr and sets
// a non-zero exit code.
void ReportError(CommandContext& ctx, absl::string_view command, const absl::Status& status);

// Parses a 64-hex-digit PDQ hash (reference order) into its wire bytes.
absl::StatusOr<std::string> PdqWireBytesFromHex(absl::string_view hex);
// Parses hex of a digest of exactly `bytes` bytes; errors name `flag`.
absl::StatusOr<std::string> DigestFromHex(absl::string_view flag, absl::string_view hex,
                                          size_t bytes);

// "url", "scope", "pdq", "sha256", "md5" or "none".
std::string MatchKindName(v1::MatchKind kind);

// A random request id for idempotent retries of one register command.
std::string NewRequestId();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_CLI_UTIL_H_
