#include "service/backup_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace optout::service {

absl::StatusOr<std::string> PrepareBackupDir(const std::string& to_dir,
                                             const std::string& data_dir) {
  namespace fs = std::filesystem;
  if (to_dir.empty() || to_dir.front() != '/') {
    return absl::InvalidArgumentError(
        "to_dir: must be an absolute path on the registry's machine");
  }
  std::error_code error;
  const fs::path backup = fs::weakly_canonical(fs::path(to_dir), error);
  if (error) return absl::InvalidArgumentError("to_dir: not a usable path");
  const fs::path data = fs::weakly_canonical(fs::absolute(fs::path(data_dir), error), error);
  if (error) return absl::UnavailableError("cannot resolve the data folder");
  std::string b = backup.lexically_normal().string();
  std::string d = data.lexically_normal().string();
  for (std::string* path : {&b, &d}) {
    while (path->size() > 1 && path->back() == '/') path->pop_back();
  }
  if (b == d || absl::StartsWith(b, d + "/")) {
    return absl::InvalidArgumentError(
        "to_dir: inside the data folder; a backup must live apart from the data");
  }
  fs::create_directories(backup, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot create the backup folder: ",
                                               error.message()));
  }
  if (::chmod(b.c_str(), 0700) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot make the backup folder private: ",
                                               std::strerror(errno)));
  }
  return b;
}

}  // namespace optout::service
