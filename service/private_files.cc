#include "service/private_files.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace optout::service {

absl::Status MakeOwnerOnly(const std::string& dir) {
  if (::chmod(dir.c_str(), 0700) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot chmod 700 ", dir, ": ", std::strerror(errno)));
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot list ", dir, ": ", std::strerror(errno)));
  }
  absl::Status status;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (S_ISDIR(st.st_mode)) {
      status.Update(MakeOwnerOnly(path));
    } else if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0) {
      status.Update(absl::UnavailableError(
          absl::StrCat("cannot chmod 600 ", path, ": ", std::strerror(errno))));
    }
  }
  ::closedir(d);
  return status;
}

}  // namespace optout::service
