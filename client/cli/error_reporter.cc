#include "client/cli/error_reporter.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/channel.h"
#include "client/registry_client.h"

namespace optout::cli {
namespace {

std::string OneLine(absl::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

// "optout check" or, before any subcommand was recognized, "optout".
std::string Who(absl::string_view command) {
  return command.empty() ? "optout" : absl::StrCat("optout ", command);
}

}  // namespace

void ReportError(CommandContext& ctx, absl::string_view command, const absl::Status& status) {
  // Results already written to stdout come first when both go to one place.
  std::cout << std::flush;
  const absl::Status explained = client::ExplainTransportError(status, ctx.client_options.tls);
  std::fprintf(stderr, "%s: %s [%s]\n", Who(command).c_str(),
               OneLine(explained.message()).c_str(),
               absl::StatusCodeToString(explained.code()).c_str());
  // Over a budget: the server's RetryInfo says how long to wait.
  if (std::optional<absl::Duration> delay = client::RetryDelayOf(status)) {
    std::fprintf(stderr, "%s: wait %lld s before retrying\n", Who(command).c_str(),
                 static_cast<long long>(absl::ToInt64Seconds(absl::Ceil(*delay, absl::Seconds(1)))));
  }
  ctx.exit_code = 1;
}

void ReportNote(absl::string_view command, absl::string_view message) {
  std::cout << std::flush;
  std::fprintf(stderr, "%s: note: %s\n", Who(command).c_str(),
               OneLine(message).c_str());
}

}  // namespace optout::cli
