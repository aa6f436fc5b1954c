#include "service/http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "web/embedded_files.h"

namespace optout::service::http {

std::string ContentTypeOf(absl::string_view name) {
  static constexpr std::pair<absl::string_view, absl::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".wasm", "application/wasm"}, {".svg", "image/svg+xml"},
      {".png", "image/png"}, {".ico", "image/x-icon"},
      {".json", "application/json"}, {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (absl::EndsWith(name, extension)) return std::string(type);
  }
  return "application/octet-stream";
}

void StaticFiles::Add(std::string path, std::string bytes) {
  File file{ContentTypeOf(path), std::move(bytes)};
  files_[std::move(path)] = std::move(file);
}

StaticFiles StaticFiles::Embedded() {
  StaticFiles files;
  for (const web::EmbeddedFile& f : web::EmbeddedFiles()) {
    files.Add(absl::StrCat("/", f.path),
              std::string(reinterpret_cast<const char*>(f.data), f.size));
  }
  return files;
}

absl::StatusOr<StaticFiles> StaticFiles::FromDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  constexpr uintmax_t kMaxTotal = uintmax_t{64} << 20;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::NotFoundError(absl::StrCat("--web_root ", dir, " is not a readable directory"));
  }
  StaticFiles files;
  uintmax_t total = 0;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    total += it->file_size(error);
    if (total > kMaxTotal) {
      return absl::InvalidArgumentError(absl::StrCat("--web_root ", dir, " holds more than 64 MiB"));
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--web_root: cannot read ", it->path().string()));
    }
    files.Add(absl::StrCat("/", fs::relative(it->path(), dir).generic_string()), bytes.str());
  }
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat("--web_root ", dir, ": ", error.message()));
  }
  return files;
}

HttpReply StaticFiles::Serve(absl::string_view path) const {
  if (path == "/") path = "/index.html";
  auto it = files_.find(path);
  if (it == files_.end()) return ErrorReply(absl::NotFoundError("no such page"));
  HttpReply reply;
  reply.body = it->second.bytes;
  reply.headers.emplace_back("Content-Type", it->second.content_type);
  return reply;
}

}  // namespace optout::service::http
