// The optout command's transport security flags (see client/channel.h).
#include <cstdlib>
#include <utility>

#include "client/channel.h"
#include "grpc/support/log.h"
#include "client/cli/error_reporter.h"
#include "client/cli/command.h"

namespace optout::cli {

void AddTlsFlags(CLI::App& app, CommandContext& ctx) {
  if (const char* env = std::getenv("OPTOUT_TLS_CA"); env != nullptr && *env != '\0') {
    ctx.tls_files.ca_file = env;
  }
  app.add_flag("--tls", ctx.tls_files.tls, "connect with TLS, trusting the system's CA certificates");
  app.add_option("--tls-ca", ctx.tls_files.ca_file,
                 "connect with TLS, trusting the CA certificates in this PEM file "
                 "(env OPTOUT_TLS_CA)");
  app.add_option("--tls-cert", ctx.tls_files.cert_file,
                 "PEM client certificate for servers that require one (mutual TLS; implies TLS)");
  app.add_option("--tls-key", ctx.tls_files.key_file, "PEM private key of --tls-cert");
  // CLI11 runs this after parsing and before the subcommand's callback, so
  // no subcommand starts with unreadable TLS files.
  app.parse_complete_callback([&app, &ctx] {
    auto tls = client::LoadTlsOptions(ctx.tls_files);
    if (!tls.ok()) {
      ReportError(ctx, app.get_subcommands().at(0)->get_name(), tls.status());
      throw CLI::RuntimeError(ctx.exit_code);
    }
    ctx.client_options.tls = *std::move(tls);
    // gRPC core logs a failed TLS handshake on stderr by itself; the failed
    // call's status carries the same reason and is printed as the one
    // error line.
    gpr_set_log_function([](gpr_log_func_args*) {});
  });
}

}  // namespace optout::cli
