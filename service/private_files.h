// File: service/private_files.h
//
// Opt-out data is readable by its owner only. optoutd runs with umask 077 so
// that everything it creates is private; MakeOwnerOnly fixes folders made by
// older versions (0755 folder, 0644 files) at start.
#ifndef OPTOUT_SERVICE_PRIVATE_FILES_H_
#define OPTOUT_SERVICE_PRIVATE_FILES_H_

#include <string>

#include "absl/status/status.h"

namespace optout::service {

// Sets `dir` to 0700 and every file in it (recursively) to 0600, folders to
// 0700. Unavailable naming the path when one cannot be changed.
absl::Status MakeOwnerOnly(const std::string& dir);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_PRIVATE_FILES_H_
