// File: client/cli/error_reporter.h
//
// The one way every optout subcommand tells the user something went wrong:
// one line on stderr, "optout <command>: <message> [CODE]", and a non-zero
// exit status. Scripts can rely on that shape whichever command failed.
#ifndef OPTOUT_CLIENT_CLI_ERROR_REPORTER_H_
#define OPTOUT_CLIENT_CLI_ERROR_REPORTER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/cli/command.h"

namespace optout::cli {

// Prints "optout <command>: <message> [CODE]" on one line to stderr (newlines
// in the message become spaces) and sets ctx.exit_code to 1. `command` is
// the subcommand as typed, e.g. "check" or "url expressions", or empty
// before one is known ("optout: <message> [CODE]").
void ReportError(CommandContext& ctx, absl::string_view command, const absl::Status& status);

// Prints "optout <command>: note: <message>" on one line to stderr: something
// the user should know that is not an error (the exit status is unchanged).
void ReportNote(absl::string_view command, absl::string_view message);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_ERROR_REPORTER_H_
