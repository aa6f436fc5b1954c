#include "client/cli/error_reporter.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/channel.h"

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
  ctx.exit_code = 1;
}

void ReportNote(absl::string_view command, absl::string_view message) {
  std::cout << std::flush;
  std::fprintf(stderr, "%s: note: %s\n", Who(command).c_str(),
               OneLine(message).c_str());
}

}  // namespace optout::cli
