// optout: command-line client of the opt-out registry.
//
//   optout [--server HOST:PORT|http://HOST:PORT|https://HOST:PORT] [--api-key KEY]
//          [--json] [--timeout DURATION] [--version]
//          [--tls] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] COMMAND ...
//
// Commands hash images locally, canonicalize URLs, register and revoke
// opt-outs, and check URLs, images and whole datasets. `optout COMMAND --help`
// explains each one.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_util.h"
#include "client/cli/command.h"
#include "client/cli/did_you_mean.h"
#include "client/cli/error_reporter.h"
#include "client/common/base/version.h"

namespace {

// The subcommands recognized so far, e.g. "url expressions"; empty if none.
std::string CommandName(const CLI::App& app) {
  std::string name;
  const CLI::App* current = &app;
  while (!current->get_subcommands().empty()) {
    current = current->get_subcommands().front();
    absl::StrAppend(&name, name.empty() ? "" : " ", current->get_name());
  }
  return name;
}

// Top-level options that take a value (the token after them is no command).
bool TakesValue(absl::string_view option) {
  for (const char* name :
       {"--server", "--api-key", "--timeout", "--tls-ca", "--tls-cert", "--tls-key"}) {
    if (option == name) return true;
  }
  return false;
}

// When the first word that is no option is not a command: "unknown command
// 'regster'; did you mean 'register'?" (or "; see optout --help"). Empty
// otherwise.
std::string UnknownCommandMessage(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "-")) {
      if (TakesValue(arg)) ++i;
      continue;
    }
    if (std::find(names.begin(), names.end(), arg) != names.end()) return "";
    const std::string guess = optout::cli::DidYouMean(arg, names);
    return absl::StrCat("unknown command '", arg, "'",
                        guess.empty() ? "; see optout --help"
                                      : absl::StrCat("; did you mean '", guess, "'?"));
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  optout::cli::CommandContext ctx;
  if (const char* env = std::getenv("OPTOUT_SERVER"); env != nullptr && *env != '\0') {
    ctx.server = env;
  } else {
    ctx.server = "127.0.0.1:50051";
  }
  if (const char* env = std::getenv("OPTOUT_API_KEY"); env != nullptr) ctx.api_key = env;
  CLI::App app{"optout: opt images and URLs out of AI training sets, and check against the registry"};
  app.require_subcommand(1);
  app.fallthrough();  // --server/--json may also follow the subcommand
  // Added before defaults are captured, so --help never shows a key.
  app.add_option("--api-key", ctx.api_key,
                 "API key sent with every call (env OPTOUT_API_KEY); without one, checks use the "
                 "registry's small anonymous budget");
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", std::string("optout ") + optout::kVersion);
  app.add_option("--server", ctx.server,
                 "registry address HOST:PORT, or http://HOST:PORT, or https://HOST:PORT for TLS "
                 "(env OPTOUT_SERVER)");
  app.add_flag("--json", ctx.json, "machine-readable JSON output");
  optout::cli::AddTlsFlags(app, ctx);
  optout::cli::AddDurationOption(app, "--timeout", &ctx.timeout,
                                 "deadline of each call to the server, and the longest wait for "
                                 "an answer on a stream, e.g. 30s, 2m, 500ms");
  // OPTOUT_CLI_COMMANDS (each Add*Commands is added here when it exists)
  optout::cli::AddHashCommand(app, ctx);
  optout::cli::AddRegistryCommands(app, ctx);
  optout::cli::AddCheckCommand(app, ctx);
  optout::cli::AddInfoCommand(app, ctx);
  optout::cli::AddCheckDatasetCommand(app, ctx);
  optout::cli::AddMergeReportsCommand(app, ctx);
  optout::cli::AddVerifyReceiptCommand(app, ctx);
  optout::cli::AddUrlCommands(app, ctx);
  // Usage errors are reported like every other error: one line, exit 1.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help
    const std::string command = CommandName(app);
    if (command.empty()) {
      if (std::string unknown = UnknownCommandMessage(app, argc, argv); !unknown.empty()) {
        optout::cli::ReportError(ctx, "", absl::InvalidArgumentError(unknown));
        return ctx.exit_code;
      }
    }
    optout::cli::ReportError(
        ctx, command,
        absl::InvalidArgumentError(absl::StrCat(
            e.what(), " (see optout ", command, command.empty() ? "" : " ", "--help)")));
  } catch (const std::exception& e) {
    optout::cli::ReportError(ctx, CommandName(app), absl::InternalError(e.what()));
  }
  return ctx.exit_code;
}
