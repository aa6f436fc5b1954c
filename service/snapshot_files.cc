#include "service/snapshot_files.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"

namespace optout::service {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 1 << 20;
constexpr char kIncoming[] = "snapshot.incoming";
constexpr char kCompleteMarker[] = "snapshot.complete";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Errno("open", path);
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? absl::OkStatus() : Errno("fsync", path);
}

// The files RocksDB keeps in its folder; nothing else in data_dir is touched
// (the admin socket, a volume's lost+found).
bool IsDatabaseFile(const std::string& name) {
  return name == "CURRENT" || name == "IDENTITY" || name == "LOCK" ||
         absl::StartsWith(name, "LOG") || absl::StartsWith(name, "MANIFEST-") ||
         absl::StartsWith(name, "OPTIONS-") || absl::EndsWith(name, ".sst") ||
         absl::EndsWith(name, ".log") || absl::EndsWith(name, ".blob") ||
         absl::EndsWith(name, ".dbtmp");
}

// Removes `path` and everything in it; no error when it is missing.
absl::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::Status SendSnapshot(storage::OptOutStore* store, const std::string& data_dir,
                          const std::function<bool(const admin::v1::SnapshotChunk&)>& send) {
  std::string suffix(8, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(suffix.data()), static_cast<int>(suffix.size()));
  const std::string dir = absl::StrCat(data_dir, "/snapshot.outgoing-", digest::ToHex(suffix));
  absl::Status taken = store->Checkpoint(dir);
  if (!taken.ok()) {
    (void)RemoveTree(dir);
    return taken;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)RemoveTree(dir); }
  } cleanup{dir};

  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  if (ec) return absl::UnavailableError(absl::StrCat("list ", dir, ": ", ec.message()));
  std::sort(names.begin(), names.end());
  std::vector<char> buffer(kChunkBytes);
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return Errno("open", path);
    struct stat st {};
    ::fstat(fd, &st);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    do {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0) {
        ::close(fd);
        return Errno("read", path);
      }
      admin::v1::SnapshotChunk chunk;
      chunk.set_file(name);
      chunk.set_file_size(size);
      chunk.set_offset(offset);
      chunk.set_data(buffer.data(), static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
      if (!send(chunk)) {
        ::close(fd);
        return absl::CancelledError("the peer stopped reading the snapshot");
      }
      if (n == 0) break;
    } while (offset < size);
    ::close(fd);
    if (offset != size) {
      return absl::UnavailableError(absl::StrCat("checkpoint file ", name, " changed size"));
    }
  }
  admin::v1::SnapshotChunk done;
  done.set_done(true);
  done.set_files(static_cast<uint32_t>(names.size()));
  if (!send(done)) return absl::CancelledError("the peer stopped reading the snapshot");
  return absl::OkStatus();
}

SnapshotReceiver::SnapshotReceiver(std::string data_dir)
    : data_dir_(std::move(data_dir)), incoming_(absl::StrCat(data_dir_, "/", kIncoming)) {}

absl::Status SnapshotReceiver::Begin() {
  ::unlink(absl::StrCat(data_dir_, "/", kCompleteMarker).c_str());
  absl::Status removed = RemoveTree(incoming_);
  if (!removed.ok()) return removed;
  if (::mkdir(incoming_.c_str(), 0700) != 0) return Errno("mkdir", incoming_);
  return absl::OkStatus();
}

absl::Status SnapshotReceiver::CloseCurrent() {
  if (fd_ < 0) return absl::OkStatus();
  const bool synced = ::fsync(fd_) == 0;
  ::close(fd_);
  fd_ = -1;
  if (!synced) return Errno("fsync", absl::StrCat(incoming_, "/", current_));
  if (written_ != sizes_[current_]) {
    return absl::DataLossError(absl::StrCat("snapshot file ", current_, " ended at ", written_,
                                            " of ", sizes_[current_], " bytes"));
  }
  return absl::OkStatus();
}

absl::Status SnapshotReceiver::Add(const admin::v1::SnapshotChunk& chunk) {
  const std::string& name = chunk.file();
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of("/\\") != std::string::npos || name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot file name \"", name, "\""));
  }
  if (name != current_) {
    absl::Status closed = CloseCurrent();
    if (!closed.ok()) return closed;
    if (sizes_.count(name) != 0 || chunk.offset() != 0) {
      return absl::InvalidArgumentError(absl::StrCat("snapshot file ", name, " out of order"));
    }
    const std::string path = absl::StrCat(incoming_, "/", name);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd_ < 0) return Errno("create", path);
    current_ = name;
    sizes_[name] = chunk.file_size();
    written_ = 0;
  }
  if (chunk.offset() != written_ || written_ + chunk.data().size() > sizes_[name]) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot file ", name, ": chunk at ", chunk.offset(), " out of order"));
  }
  const char* data = chunk.data().data();
  size_t left = chunk.data().size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0) return Errno("write", absl::StrCat(incoming_, "/", name));
    data += n;
    left -= static_cast<size_t>(n);
  }
  written_ += chunk.data().size();
  return absl::OkStatus();
}

absl::Status SnapshotReceiver::Finish(const admin::v1::SnapshotChunk& done) {
  absl::Status closed = CloseCurrent();
  if (!closed.ok()) return closed;
  if (!done.done() || done.files() != sizes_.size() || sizes_.count("CURRENT") == 0) {
    return absl::DataLossError(absl::StrCat("snapshot incomplete: ", sizes_.size(), " files of ",
                                            done.files(), " arrived"));
  }
  return SyncPath(incoming_);
}

absl::Status MarkSnapshotComplete(const std::string& data_dir) {
  // The marker names the new files: an install that a crash interrupts
  // keeps them (moved or not) and removes only the others.
  const std::string incoming = absl::StrCat(data_dir, "/", kIncoming);
  std::string names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(incoming, ec)) {
    absl::StrAppend(&names, entry.path().filename().string(), "\n");
  }
  if (ec) return absl::UnavailableError(absl::StrCat("list ", incoming, ": ", ec.message()));
  const std::string marker = absl::StrCat(data_dir, "/", kCompleteMarker);
  const std::string tmp = marker + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Errno("create", tmp);
  const bool written = ::write(fd, names.data(), names.size()) == static_cast<ssize_t>(names.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Errno("write", tmp);
  if (::rename(tmp.c_str(), marker.c_str()) != 0) return Errno("rename", tmp);
  return SyncPath(data_dir);
}

absl::Status InstallPendingSnapshot(const std::string& data_dir) {
  const std::string incoming = absl::StrCat(data_dir, "/", kIncoming);
  const std::string marker = absl::StrCat(data_dir, "/", kCompleteMarker);
  // Checkpoints a peer was being sent when this process died.
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(data_dir, ec)) {
    if (absl::StartsWith(entry.path().filename().string(), "snapshot.outgoing-")) {
      OPTOUT_RETURN_IF_ERROR(RemoveTree(entry.path().string()));
    }
  }
  std::ifstream in(marker);
  if (!in) return RemoveTree(incoming);  // never finished: discarded
  absl::flat_hash_set<std::string> keep;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) keep.insert(line);
  }
  // Old database files that the snapshot does not replace go first; then
  // the new files move in (a rename replaces a file of the same name). A
  // crash anywhere repeats both steps, with the same outcome.
  for (const fs::directory_entry& entry : fs::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && IsDatabaseFile(name) && !keep.contains(name)) {
      fs::remove(entry.path(), ec);
      if (ec) return absl::UnavailableError(absl::StrCat("remove ", name, ": ", ec.message()));
    }
  }
  if (ec) return absl::UnavailableError(absl::StrCat("list ", data_dir, ": ", ec.message()));
  for (const std::string& name : keep) {
    const fs::path from = fs::path(incoming) / name;
    if (!fs::exists(from, ec)) continue;  // moved before a crash
    fs::rename(from, fs::path(data_dir) / name, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("move ", from.string(), ": ", ec.message()));
  }
  absl::Status synced = SyncPath(data_dir);
  if (!synced.ok()) return synced;
  absl::Status removed = RemoveTree(incoming);
  if (!removed.ok()) return removed;
  ::unlink(marker.c_str());
  return SyncPath(data_dir);
}

}  // namespace optout::service
