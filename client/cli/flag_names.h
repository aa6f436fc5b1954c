// File: client/cli/flag_names.h
//
// The server names the request field an error is about ("urls[1]: ...",
// "opt_out_id: ..."); the user typed flags. RenameFieldAsFlag rewrites the
// field at the start of a server message into the flag, and the value the
// user gave when the field is indexed ("--url http://x:7z/: INVALID_PORT:
// ..."), so the message names what to fix. Pure functions.
#ifndef OPTOUT_CLIENT_CLI_FLAG_NAMES_H_
#define OPTOUT_CLIENT_CLI_FLAG_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace optout::cli {

// A request field and the flag it came from. `values`, when set, are the
// flag's values in request order: field[i] is values[i] (an index past the
// end names the flag alone, e.g. a hash taken from an --image).
struct FieldFlag {
  absl::string_view field;  // "urls", "opt_out_id"
  absl::string_view flag;   // "--url", "--id"
  const std::vector<std::string>* values = nullptr;
};

// `status` with its message's leading "FIELD[i].sub: " rewritten as
// "FLAG VALUE: sub: " for the first entry of `fields` whose field it is;
// any other status unchanged (same code).
absl::Status RenameFieldAsFlag(const absl::Status& status, absl::Span<const FieldFlag> fields);

// The fields of Get and Revoke requests: opt_out_id -> --id,
// manage_token -> --token.
absl::Span<const FieldFlag> ManageFieldFlags();

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_FLAG_NAMES_H_
