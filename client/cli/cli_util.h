// File: client/cli/cli_util.h
//
// Small pieces shared by the optout subcommands: making request ids. Errors
// go through error_reporter.h; requests are built by request_builder.h;
// match-kind names are protocol rules (client/common/protocol/match_kind.h).
#ifndef OPTOUT_CLIENT_CLI_CLI_UTIL_H_
#define OPTOUT_CLIENT_CLI_CLI_UTIL_H_

#include <string>

namespace optout::cli {

// A random request id for idempotent retries of one register command.
// 32 hex digits of 128 random bits: a request_id the registry accepts.
std::string NewRequestId();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_CLI_UTIL_H_
