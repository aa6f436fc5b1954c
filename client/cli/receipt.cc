#include "client/cli/receipt.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::cli {
namespace {

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::string> DefaultReceiptPath(const std::string& id) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::FailedPreconditionError("$HOME is not set; give --receipt FILE");
  }
  return absl::StrCat(home, "/.optout/receipt-", id, ".json");
}

absl::Status CheckReceiptPathFree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("receipt file ", path, " already exists; it is never overwritten"));
  }
  return absl::OkStatus();
}

namespace {

// Writes `text` to a new file `path` (O_EXCL: never replaces a file or
// follows a planted symlink) with mode exactly 0600, and fsyncs it.
absl::Status WriteNewPrivateFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return CheckReceiptPathFree(path);
    return IoError("cannot create", path);
  }
  ::fchmod(fd, 0600);  // exactly 0600 whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = IoError("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return IoError("cannot write", path);
  return absl::OkStatus();
}

std::string ReceiptText(const nlohmann::ordered_json& json) {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

absl::StatusOr<nlohmann::ordered_json> ReadReceiptJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read receipt ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto json = nlohmann::ordered_json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("id") ||
      !json.contains("token") || !json["id"].is_string() || !json["token"].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not an optout receipt (needs \"id\" and \"token\")"));
  }
  return json;
}

}  // namespace

absl::Status WriteReceipt(const std::string& path, const Receipt& receipt) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    // Only the last directory level is created (that is ~/.optout by default);
    // 0700 because it holds tokens.
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create", dir);
  }
  nlohmann::ordered_json json;
  json["id"] = receipt.id;
  json["token"] = receipt.token;
  json["server"] = receipt.server;
  json["created"] = receipt.created;
  json["registered"] = receipt.registered;
  if (!receipt.match_ids.empty()) json["match_ids"] = receipt.match_ids;
  if (!receipt.challenge.empty()) json["challenge"] = receipt.challenge;
  if (!receipt.revoked.empty()) json["revoked"] = receipt.revoked;
  if (receipt.version != 0) json["version"] = receipt.version;
  return WriteNewPrivateFile(path, ReceiptText(json));
}

absl::Status MarkReceiptRevoked(const std::string& path, const std::string& date) {
  OPTOUT_ASSIGN_OR_RETURN(nlohmann::ordered_json json, ReadReceiptJson(path));
  json["revoked"] = date;
  // A new file renamed over the old one: a crash leaves either receipt whole,
  // never a half-written token.
  const std::string temp = path + ".revoking";
  ::unlink(temp.c_str());
  OPTOUT_RETURN_IF_ERROR(WriteNewPrivateFile(temp, ReceiptText(json)));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    absl::Status s = IoError("cannot replace", path);
    ::unlink(temp.c_str());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, Receipt>>> ReadReceiptFolder(
    const std::string& dir) {
  std::vector<std::pair<std::string, Receipt>> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return IoError("cannot list", dir);
  }
  std::vector<std::string> names;
  while (const struct dirent* entry = ::readdir(d)) {
    const absl::string_view name = entry->d_name;
    if (absl::StartsWith(name, "receipt-") && absl::EndsWith(name, ".json")) {
      names.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    auto receipt = ReadReceipt(path);
    if (receipt.ok()) out.emplace_back(path, *std::move(receipt));
  }
  return out;
}

absl::StatusOr<Receipt> ReadReceipt(const std::string& path) {
  OPTOUT_ASSIGN_OR_RETURN(nlohmann::ordered_json json, ReadReceiptJson(path));
  Receipt receipt;
  receipt.id = json["id"].get<std::string>();
  receipt.token = json["token"].get<std::string>();
  if (json.contains("server") && json["server"].is_string()) {
    receipt.server = json["server"].get<std::string>();
  }
  if (json.contains("created") && json["created"].is_string()) {
    receipt.created = json["created"].get<std::string>();
  }
  if (json.contains("registered")) receipt.registered = json["registered"];
  if (json.contains("match_ids") && json["match_ids"].is_array()) {
    receipt.match_ids = json["match_ids"];
  }
  if (json.contains("challenge") && json["challenge"].is_object()) {
    receipt.challenge = json["challenge"];
  }
  if (json.contains("revoked") && json["revoked"].is_string()) {
    receipt.revoked = json["revoked"].get<std::string>();
  }
  if (json.contains("version") && json["version"].is_number_unsigned()) {
    receipt.version = json["version"].get<uint64_t>();
  }
  return receipt;
}

}  // namespace optout::cli
