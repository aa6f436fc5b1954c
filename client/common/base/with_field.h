// File: client/common/base/with_field.h
//
// One way to say which field or item an error is about, used by the server's
// validation and by the client's request building alike, so a user reads the
// same "items[3].url: ..." wherever the error was found.
#ifndef OPTOUT_CLIENT_COMMON_BASE_WITH_FIELD_H_
#define OPTOUT_CLIENT_COMMON_BASE_WITH_FIELD_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace optout {

// Prefixes an error message with a field path ("urls[2]: ..."); keeps the code.
inline absl::Status WithField(absl::string_view field, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(field, ": ", status.message()));
}

}  // namespace optout

#endif  // OPTOUT_CLIENT_COMMON_BASE_WITH_FIELD_H_
