// File: client/cli/cli_util.h
//
// Small pieces shared by the optout subcommands: naming match kinds and
// making request ids. Errors go through error_reporter.h; requests are built
// by request_builder.h.
#ifndef OPTOUT_CLIENT_CLI_CLI_UTIL_H_
#define OPTOUT_CLIENT_CLI_CLI_UTIL_H_

#include <string>

#include "optout/v1/optout.pb.h"

namespace optout::cli {

// "url", "scope", "pdq", "sha256", "md5" or "none".
std::string MatchKindName(v1::MatchKind kind);

// A random request id for idempotent retries of one register command.
// 32 hex digits of 128 random bits: a request_id the registry accepts.
std::string NewRequestId();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_CLI_UTIL_H_
