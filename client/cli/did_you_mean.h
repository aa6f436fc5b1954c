// File: client/cli/did_you_mean.h
//
// The closest known name to a mistyped one ("regster" -> "register"), for
// "did you mean ..." in usage errors. Pure function.
#ifndef OPTOUT_CLIENT_CLI_DID_YOU_MEAN_H_
#define OPTOUT_CLIENT_CLI_DID_YOU_MEAN_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace optout::cli {

// The name of `names` nearest to `typed` by edit distance (insertions,
// deletions, substitutions and swaps of neighbours count 1), if at most 2
// edits (1 for names of up to 4 letters) away, or of which `typed` is a
// prefix of 3+ letters; empty when none is close.
std::string DidYouMean(absl::string_view typed, const std::vector<std::string>& names);

}  // namespace optout::cli

#endif  // OPTOUT_CLIENT_CLI_DID_YOU_MEAN_H_
