// optout: command-line client of the opt-out registry.
//
//   optout [--server HOST:PORT] [--json] COMMAND ...
//
// Commands hash images locally, canonicalize URLs, register and revoke
// opt-outs, and check URLs, images and whole datasets. `optout COMMAND --help`
// explains each one.
#include <cstdlib>

#include "client/cli/command.h"

int main(int argc, char** argv) {
  optout::cli::CommandContext ctx;
  if (const char* env = std::getenv("OPTOUT_SERVER"); env != nullptr && *env != '\0') {
    ctx.server = env;
  } else {
    ctx.server = "127.0.0.1:50051";
  }
  CLI::App app{"optout: opt images and URLs out of AI training sets, and check against the registry"};
  app.require_subcommand(1);
  app.fallthrough();  // --server/--json may also follow the subcommand
  app.option_defaults()->always_capture_default();
  app.add_option("--server", ctx.server, "registry address HOST:PORT (env OPTOUT_SERVER)");
  app.add_flag("--json", ctx.json, "machine-readable JSON output");
  // OPTOUT_CLI_COMMANDS (each Add*Commands is added here when it exists)
  optout::cli::AddHashCommand(app, ctx);
  optout::cli::AddRegistryCommands(app, ctx);
  optout::cli::AddCheckCommand(app, ctx);
  optout::cli::AddCheckDatasetCommand(app, ctx);
  optout::cli::AddUrlCommands(app, ctx);
  CLI11_PARSE(app, argc, argv);
  return ctx.exit_code;
}
