#include "service/registry_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <openssl/rand.h>

#include "absl/strings/str_cat.h"

namespace optout::service {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<SecretBytes> ReadRegistrySecret(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open secret file", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Errno("cannot stat secret file", path);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "secret file ", path, " is accessible by group or others (mode ",
        absl::Hex(st.st_mode & 0777), "); run: chmod 600 ", path));
  }
  if (st.st_size != static_cast<off_t>(SecretBytes().size())) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat("secret file ", path, " has ", st.st_size,
                                                      " bytes; a registry secret has exactly 32"));
  }
  SecretBytes secret{};
  const ssize_t n = ::read(fd, secret.data(), secret.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(secret.size())) return Errno("cannot read secret file", path);
  return secret;
}

namespace {

absl::Status CreateSecret(const std::string& path) {
  SecretBytes secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return absl::InternalError("no randomness for a new registry secret");
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create secret file", tmp);
  const bool written = ::write(fd, secret.data(), secret.size()) ==
                       static_cast<ssize_t>(secret.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Errno("cannot write secret file", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename secret file", tmp);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBytes> LoadOrCreateRegistrySecret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Errno("cannot stat secret file", path);
    absl::Status created = CreateSecret(path);
    if (!created.ok()) return created;
  }
  return ReadRegistrySecret(path);
}

absl::StatusOr<std::string> DefaultRegistrySecretPath(const std::string& data_dir) {
  const std::string legacy = data_dir + ".secret";
  struct stat st {};
  if (::stat(legacy.c_str(), &st) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "found a registry secret at the old default location ", legacy,
        "; start with --secret_file=", legacy, " (or move it to a folder apart from the data)"));
  }
  std::string config;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
    config = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    config = absl::StrCat(home, "/.config");
  } else {
    return absl::FailedPreconditionError(
        "no default place for the registry secret ($HOME is not set): give --secret_file");
  }
  const std::string dir = config + "/optoutd";
  ::mkdir(config.c_str(), 0700);  // usually exists already
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create the secret folder", dir);
  }
  return dir + "/registry.secret";
}

}  // namespace optout::service
