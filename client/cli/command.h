// File: client/cli/command.h
//
// How subcommands of the `optout` tool plug into main(). Each Add*Commands
// function registers its subcommands on `app`; their callbacks write the
// process exit status to `ctx.exit_code` (0 = success) and print errors as
// one line on stderr.
#ifndef OPTOUT_CLIENT_CLI_COMMAND_H_
#define OPTOUT_CLIENT_CLI_COMMAND_H_

#include <string>

#include "CLI/CLI.hpp"
#include "client/registry_client.h"
#include "absl/time/time.h"

namespace optout::cli {

struct CommandContext {
  // --server HOST:PORT, else $OPTOUT_SERVER, else 127.0.0.1:50051.
  std::string server;
  // --api-key KEY, else $OPTOUT_API_KEY; empty: anonymous checks.
  std::string api_key;
  // --json: machine-readable output.
  bool json = false;
  // --tls, --tls-ca (else $OPTOUT_TLS_CA), --tls-cert, --tls-key; read into
  // client_options.tls before any subcommand runs.
  client::TlsFiles tls_files;
  // What every subcommand connects with.
  client::ClientOptions client_options;
  // --timeout: deadline of each call, and the longest wait for an answer on
  // a stream (a stopped server fails the command instead of hanging it).
  absl::Duration timeout = absl::Seconds(30);
  int exit_code = 0;
};

// Global --tls, --tls-ca, --tls-cert, --tls-key; fills ctx.client_options.tls
// before any subcommand runs, or ends the program with an error.
void AddTlsFlags(CLI::App& app, CommandContext& ctx);
void AddUrlCommands(CLI::App& app, CommandContext& ctx);
void AddHashCommand(CLI::App& app, CommandContext& ctx);
void AddRegistryCommands(CLI::App& app, CommandContext& ctx);
void AddCheckCommand(CLI::App& app, CommandContext& ctx);
void AddInfoCommand(CLI::App& app, CommandContext& ctx);
void AddCheckDatasetCommand(CLI::App& app, CommandContext& ctx);
void AddMergeReportsCommand(CLI::App& app, CommandContext& ctx);
void AddVerifyReceiptCommand(CLI::App& app, CommandContext& ctx);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_COMMAND_H_
