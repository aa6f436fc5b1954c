#include "service/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "service/log.h"

namespace optout::service {
namespace {

// JSON string contents. The strings written here are key names (validated
// to [A-Za-z0-9._-] when created, but an admin call may name anything) and
// addresses, so everything outside printable ASCII is escaped.
void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out->append(escaped);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// {"url":2,"pdq":1}: kinds with a count only.
void AppendCounts(std::string* out, const KindCounts& counts) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, n] : {std::pair<const char*, int64_t>{"url", counts.url},
                                {"url_any_query", counts.url_any_query},
                                {"scope", counts.scope},
                                {"pdq", counts.pdq},
                                {"sha256", counts.sha256},
                                {"md5", counts.md5}}) {
    if (n == 0) continue;
    absl::StrAppend(out, first ? "" : ",", "\"", name, "\":", n);
    first = false;
  }
  out->push_back('}');
}

}  // namespace

std::string AuditLine(const AuditEntry& entry) {
  std::string line = "{\"time\":";
  AppendJsonString(&line, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.time,
                                            absl::UTCTimeZone()));
  if (!entry.key_name.empty()) {
    line += ",\"key\":";
    AppendJsonString(&line, entry.key_name);
  } else {
    line += ",\"peer\":";
    AppendJsonString(&line, entry.peer);
  }
  line += ",\"method\":";
  AppendJsonString(&line, entry.method);
  if (!entry.target_key.empty()) {
    line += ",\"target_key\":";
    AppendJsonString(&line, entry.target_key);
  }
  line += ",\"items\":";
  AppendCounts(&line, entry.items);
  line += ",\"matches\":";
  AppendCounts(&line, entry.matches);
  line += ",\"status\":";
  AppendJsonString(&line, absl::StatusCodeToString(entry.status));
  if (!entry.event.empty()) {
    line += ",\"event\":";
    AppendJsonString(&line, entry.event);
  }
  line.push_back('}');
  return line;
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                         int64_t max_bytes, int keep) {
  if (max_bytes < 4096) return absl::InvalidArgumentError("audit_log_max_mb must be >= 1");
  if (keep < 1) return absl::InvalidArgumentError("audit_log_keep must be >= 1");
  std::unique_ptr<AuditLog> log(new AuditLog(path, max_bytes, keep));
  absl::MutexLock lock(&log->mu_);
  absl::Status opened = log->OpenFile();
  if (!opened.ok()) return opened;
  return log;
}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

absl::Status AuditLog::OpenFile() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("--audit_log ", path_, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  return absl::OkStatus();
}

void AuditLog::Rotate() {
  ::close(fd_);
  fd_ = -1;
  // FILE.<keep> is dropped by being renamed over; a missing FILE.i is fine.
  for (int i = keep_ - 1; i >= 1; --i) {
    ::rename(absl::StrCat(path_, ".", i).c_str(), absl::StrCat(path_, ".", i + 1).c_str());
  }
  ::rename(path_.c_str(), absl::StrCat(path_, ".1").c_str());
  absl::Status reopened = OpenFile();
  if (!reopened.ok()) Log(LogLevel::kError, reopened.message());
}

void AuditLog::Write(const AuditEntry& entry) {
  std::string line = AuditLine(entry);
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (size_ > 0 && size_ + static_cast<int64_t>(line.size()) > max_bytes_) Rotate();
  if (fd_ < 0) OpenFile().IgnoreError();  // a failed rotation retries here
  const ssize_t written = fd_ >= 0 ? ::write(fd_, line.data(), line.size()) : -1;
  if (written == static_cast<ssize_t>(line.size())) {
    size_ += written;
    failing_ = false;
    return;
  }
  if (!failing_) {
    Log(LogLevel::kError, absl::StrCat("--audit_log ", path_, ": cannot write: ",
                                       written < 0 ? std::strerror(errno) : "short write"));
  }
  failing_ = true;
}

}  // namespace optout::service
