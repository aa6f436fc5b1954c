// File: service/http/static_files.h
//
// StaticFiles: the web page's files (HTML, CSS, JavaScript, the PDQ
// WebAssembly module), either embedded in optoutd at build time (web/) or
// read once at start from --web_root. Only the files found then are served,
// by exact path: no directory listing, no path traversal, no file read per
// request. "/" is index.html.
//
// Immutable after construction; thread-safe.
#ifndef OPTOUT_SERVICE_HTTP_STATIC_FILES_H_
#define OPTOUT_SERVICE_HTTP_STATIC_FILES_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/http/http_status.h"

namespace optout::service::http {

class StaticFiles final {
 public:
  // The files compiled into the binary.
  static StaticFiles Embedded();
  // Every regular file under `dir` (recursively, at most 64 MiB in all).
  // NotFound / InvalidArgument naming --web_root when it cannot be read.
  static absl::StatusOr<StaticFiles> FromDirectory(const std::string& dir);

  // 200 with the file and its Content-Type, or 404.
  HttpReply Serve(absl::string_view path) const;
  bool Has(absl::string_view path) const { return files_.contains(path); }
  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string bytes;
  };
  void Add(std::string path, std::string bytes);

  absl::flat_hash_map<std::string, File> files_;  // key: "/index.html"
};

// Content-Type for a file name, by extension; application/octet-stream if
// unknown (never sniffed: every answer carries nosniff).
std::string ContentTypeOf(absl::string_view name);

}  // namespace optout::service::http

#endif  // OPTOUT_SERVICE_HTTP_STATIC_FILES_H_
