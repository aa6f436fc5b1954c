// File: service/audit_log.h
//
// AuditLog: optoutd's --audit_log FILE (issue 10). One JSON object per line
// and per call (per batch on a CheckStream): when, who (the API key's name,
// or the caller's address for calls without a key), which method, how many
// items of each kind, how many of them matched by kind, and the status code.
// An entry has no field that could hold a URL, hash, id, token or API key,
// so none can be written.
//
// Append-only: each line is one write(2) to a file opened O_APPEND, mode
// 0600. When the next line would take the file past `max_bytes` it is
// renamed FILE.1 (FILE.1 becomes FILE.2, ... up to FILE.<keep>, the oldest
// dropped) and a new FILE begins.
//
// gRPC-free; thread-safe (lines from concurrent calls never interleave).
#ifndef OPTOUT_SERVICE_AUDIT_LOG_H_
#define OPTOUT_SERVICE_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace optout::service {

// Items (or matches) by kind, in the lower-case names clients use.
struct KindCounts {
  int64_t url = 0;
  int64_t url_any_query = 0;  // registrations and matches only
  int64_t scope = 0;  // matches only: a URL matched by a registered scope
  int64_t pdq = 0;
  int64_t sha256 = 0;
  int64_t md5 = 0;

  int64_t total() const { return url + url_any_query + scope + pdq + sha256 + md5; }
};

struct AuditEntry {
  absl::Time time;
  // Who called: the API key's name, else the caller's address (PeerKey).
  std::string key_name;
  std::string peer;
  // "Check", "CheckStream", "Register", "Get", "Revoke", "admin.CreateKey", ...
  absl::string_view method;
  KindCounts items;
  KindCounts matches;
  absl::StatusCode status = absl::StatusCode::kOk;
  // Admin calls: the key name acted on. Empty otherwise.
  std::string target_key;
  // Why this entry stands out, e.g. "pdq_probing"; empty for an ordinary call.
  absl::string_view event;
};

// The line Write appends for `entry` (no newline); exposed for tests.
std::string AuditLine(const AuditEntry& entry);

class AuditLog final {
 public:
  // Opens (creates, mode 0600) `path` for appending. InvalidArgument for a
  // max_bytes < 4096 or keep < 1; Unavailable naming the file when it
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                        int64_t max_bytes, int keep);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line, rotating first when it would not fit. A failed write
  // is reported on stderr once per failure streak; calls go on.
  void Write(const AuditEntry& entry);

 private:
  AuditLog(std::string path, int64_t max_bytes, int keep)
      : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}
  absl::Status OpenFile() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const int64_t max_bytes_;
  const int keep_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_AUDIT_LOG_H_
