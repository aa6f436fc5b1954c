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

namespace optout::cli {

struct CommandContext {
  // --server HOST:PORT, else $OPTOUT_SERVER, else 127.0.0.1:50051.
  std::string server;
  // --json: machine-readable output.
  bool json = false;
  int exit_code = 0;
};

void AddUrlCommands(CLI::App& app, CommandContext& ctx);
void AddHashCommand(CLI::App& app, CommandContext& ctx);
void AddRegistryCommands(CLI::App& app, CommandContext& ctx);
void AddCheckCommand(CLI::App& app, CommandContext& ctx);
void AddCheckDatasetCommand(CLI::App& app, CommandContext& ctx);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_COMMAND_H_
