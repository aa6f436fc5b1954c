// File: client/common/url/escape.h
//
// Percent-decoding to a fixpoint (URL_RULES.md#decoding) and re-escaping
// (URL_RULES.md#escaping).
#ifndef OPTOUT_CLIENT_COMMON_URL_ESCAPE_H_
#define OPTOUT_CLIENT_COMMON_URL_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace optout::url {

inline bool IsHexDigit(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// Appends to `out` the fixpoint of repeated percent-decoding of `in`
// (URL_RULES.md#decoding). When `drop_tab_cr_lf` is true, TAB/LF/CR bytes of
// `in` are deleted first (URL_RULES.md#clean-up step 4; escaped forms stay).
// Single pass: a decoded byte
// can complete a new `%HH` only at the end of the output, which is reduced at
// once; the rewriting `%HH -> byte` has no overlapping redexes, so every
// reduction order reaches the same fixpoint as the round-based description.
void AppendPercentDecodedFixpoint(absl::string_view in, bool drop_tab_cr_lf, std::string* out);

// True for the bytes that URL_RULES.md#escaping escapes: <= 0x20, >= 0x7F,
// '#', '%'.
bool NeedsEscape(unsigned char c);

// Appends `in` to `out`, escaped as URL_RULES.md#escaping says (uppercase
// hex).
void AppendEscaped(absl::string_view in, std::string* out);

}  // namespace optout::url

#endif  // OPTOUT_CLIENT_COMMON_URL_ESCAPE_H_
