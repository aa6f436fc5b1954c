// File: service/backup_dir.h
//
// Where optoutd may write a backup it is asked for over the admin API: an
// absolute path, not inside the data folder (a backup there would be backed
// up, restored and deleted with the data it is meant to survive). gRPC-free.
#ifndef OPTOUT_SERVICE_BACKUP_DIR_H_
#define OPTOUT_SERVICE_BACKUP_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace optout::service {

// Checks `to_dir` against `data_dir` and creates it (and missing parents)
// with mode 0700. Returns its normalized path. InvalidArgument for an empty
// or relative path or one at or inside `data_dir`; Unavailable when it
// cannot be created.
absl::StatusOr<std::string> PrepareBackupDir(const std::string& to_dir,
                                             const std::string& data_dir);

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_BACKUP_DIR_H_
