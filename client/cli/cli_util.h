// File: client/cli/cli_util.h
//
// Small pieces shared by the optout subcommands: connecting as the global
// flags say, duration flags and making request ids. Errors go through
// error_reporter.h; requests are built by request_builder.h; match-kind names
// are protocol rules (client/common/protocol/match_kind.h).
#ifndef OPTOUT_CLIENT_CLI_CLI_UTIL_H_
#define OPTOUT_CLIENT_CLI_CLI_UTIL_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/cli/command.h"
#include "client/registry_client.h"
#include "optout/v1/optout.pb.h"

namespace optout::cli {

// Exit status of a check that ran but could not check some items (they are
// answered "matched": null / ERROR). 1 means the command itself failed.
inline constexpr int kExitUnchecked = 2;

// The client the global flags ask for (--server, --timeout, TLS flags).
// --server may be HOST:PORT, http://HOST:PORT or https://HOST:PORT (TLS);
// InvalidArgument, saying what is accepted, for anything else.
absl::StatusOr<std::unique_ptr<client::RegistryClient>> ConnectRegistry(
    const CommandContext& ctx);

// A duration flag: "30s", "1m30s", "500ms", "2h" or a bare number of seconds.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text);
// Adds `name` to `app` as a duration option stored in `*out` while parsing;
// a malformed value is a usage error naming the flag.
CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& help);

// A random request id for idempotent retries of one register command.
// 32 hex digits of 128 random bits: a request_id the registry accepts.
std::string NewRequestId();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_CLI_UTIL_H_
