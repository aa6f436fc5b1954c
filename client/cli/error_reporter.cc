#include "client/cli/error_reporter.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/channel.h"
#include "client/registry_client.h"
#include "client/cli/server_address.h"

namespace optout::cli {
namespace {

std::string OneLine(absl::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

// UNAVAILABLE because nothing answered at the address (refused, no route,
// unknown name), as opposed to a TLS or protocol failure: the usual cause is
// a server that is not running, or the wrong --server.
absl::Status WithServerHint(const absl::Status& status, const std::string& server) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const absl::string_view m = status.message();
  const bool unreachable = absl::StrContains(m, "failed to connect to all addresses") ||
                           absl::StrContains(m, "Connection refused") ||
                           absl::StrContains(m, "DNS resolution failed") ||
                           absl::StrContains(m, "No route to host");
  if (!unreachable) return status;
  auto address = ParseServerAddress(server);
  return absl::UnavailableError(absl::StrCat(
      m, "; is optoutd running at ", address.ok() ? address->target : server,
      "? (--server or $OPTOUT_SERVER)"));
}

// "optout check" or, before any subcommand was recognized, "optout".
std::string Who(absl::string_view command) {
  return command.empty() ? "optout" : absl::StrCat("optout ", command);
}

}  // namespace

void ReportError(CommandContext& ctx, absl::string_view command, const absl::Status& status) {
  // Results already written to stdout come first when both go to one place.
  std::cout << std::flush;
  client::TlsOptions tls = ctx.client_options.tls;
  if (auto address = ParseServerAddress(ctx.server); address.ok() && address->tls) {
    tls.enabled = true;  // --server https://...
  }
  const absl::Status explained =
      WithServerHint(client::ExplainTransportError(status, tls), ctx.server);
  std::string message = OneLine(explained.message());
  // Over a budget: the server's RetryInfo says how long to wait (same line:
  // errors are one line).
  if (std::optional<absl::Duration> delay = client::RetryDelayOf(status)) {
    absl::StrAppend(&message, "; wait ",
                    absl::ToInt64Seconds(absl::Ceil(*delay, absl::Seconds(1))),
                    " s before retrying");
  }
  std::fprintf(stderr, "%s: %s [%s]\n", Who(command).c_str(), message.c_str(),
               absl::StatusCodeToString(explained.code()).c_str());
  ctx.exit_code = 1;
}

void ReportNote(absl::string_view command, absl::string_view message) {
  std::cout << std::flush;
  std::fprintf(stderr, "%s: note: %s\n", Who(command).c_str(),
               OneLine(message).c_str());
}

}  // namespace optout::cli
