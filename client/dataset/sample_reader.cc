// Readers of image collections: webdataset .tar shards and image folders.
// Both group files into samples by key (webdataset convention) and take the
// URL from the sample's .json file.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "client/dataset/field_names.h"
#include "client/dataset/reader.h"
#include "client/dataset/sniff.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

// Largest sample file read into memory; larger ones make the sample
// unchecked instead of exhausting memory. 512 MiB, the hasher's own limit.
constexpr int64_t kMaxFileBytes = int64_t{512} << 20;

void Flag(Record* r, std::string reason) {
  if (r->unchecked.empty()) r->unchecked = std::move(reason);
}

// Fills the check fields of a sample from its files: the image to hash
// (found by content as well as name) and the URL of its .json. Anything
// that leaves part of the sample unchecked flags the whole sample.
void Interpret(const ReaderOptions& options, Record* r) {
  std::vector<std::string> images;
  std::string json_without_url;
  for (size_t i = 0; i < r->files.size(); ++i) {
    const SampleFile& f = r->files[i];
    if (f.is_dir) continue;
    const absl::string_view bytes = f.bytes;
    const Sniffed content = SniffContent(bytes.substr(0, kSniffBytes), bytes.size() <= kSniffBytes);
    if (content.kind == ContentKind::kImage || IsImageName(f.name)) {
      images.push_back(f.name);
      if (r->image_file < 0) r->image_file = static_cast<int>(i);
      continue;
    }
    if (content.kind == ContentKind::kContainer || content.kind == ContentKind::kTar) {
      Flag(r, absl::StrCat(f.name, ": ", content.what, ": not checked inside a sample"));
      continue;
    }
    if (!absl::EndsWithIgnoreCase(f.name, ".json")) continue;
    auto json = nlohmann::json::parse(f.bytes, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      Flag(r, absl::StrCat("broken JSON in ", f.name));
      continue;
    }
    // img2dataset's content hash of the image (hex): checked when the
    // image itself is absent; the bytes, when present, replace it.
    for (const auto& [name, bytes, out] : {std::make_tuple("sha256", 32, &r->sha256),
                                           std::make_tuple("md5", 16, &r->md5)}) {
      auto hash = json.find(name);
      if (hash == json.end() || !hash->is_string()) continue;
      auto parsed = digest::FromHex(hash->get<std::string>(), bytes);
      if (parsed.ok()) *out = *std::move(parsed);
    }
    auto url = FindUrlKey(json, options.url_column);
    if (url != json.end() && url->is_string()) {
      r->url = url->get<std::string>();
      r->has_url = true;
    } else if (url != json.end() && !url->is_null()) {
      Flag(r, absl::StrCat("\"", url.key(), "\" in ", f.name, " is not a string"));
    } else {
      json_without_url = f.name;
    }
  }
  if (images.size() > 1) {
    Flag(r, absl::StrCat(images.size(), " images under one key (", absl::StrJoin(images, ", "),
                         "): only one can be checked per sample"));
  }
  if (!json_without_url.empty() && !r->has_url) {
    Flag(r, absl::StrCat("no URL key in ", json_without_url, " (looked for ",
                         options.url_column.empty() ? UrlNameList() : options.url_column, ")"));
  }
  if (images.empty() && !r->has_url && r->sha256.empty() && r->md5.empty()) {
    Flag(r, "nothing to check: no image and no URL (not a shard or a manifest either)");
  }
}

class ShardReader final : public RecordReader {
 public:
  ShardReader(archive* a, ReaderOptions options) : archive_(a), options_(std::move(options)) {}
  ~ShardReader() override { archive_read_free(archive_); }

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    size_t n = 0;
    while (n < max_records) {
      if (!pending_valid_ && !done_) {
        OPTOUT_RETURN_IF_ERROR(NextFile(&pending_, &pending_is_file_));
      }
      if (done_ && !pending_valid_) break;
      // Directories and other non-files pass through.
      if (!pending_is_file_) {
        Record r;
        r.passthrough = true;
        r.files.push_back(std::move(pending_));
        pending_valid_ = false;
        out->push_back(std::move(r));
        continue;
      }
      Record r;
      r.key = SampleKey(pending_.name);
      r.files.push_back(std::move(pending_));
      pending_valid_ = false;
      // Consecutive files with the same key form one sample.
      for (;;) {
        OPTOUT_RETURN_IF_ERROR(NextFile(&pending_, &pending_is_file_));
        if (done_ || !pending_is_file_ || SampleKey(pending_.name) != r.key) break;
        r.files.push_back(std::move(pending_));
        pending_valid_ = false;
      }
      r.row = ++samples_;
      for (const SampleFile& f : r.files) {
        if (static_cast<int64_t>(f.bytes.size()) >= kMaxFileBytes) {
          r.unchecked = absl::StrCat(f.name, " is larger than 512 MiB (not copied)");
          r.incomplete = true;
        }
      }
      Interpret(options_, &r);
      out->push_back(std::move(r));
      ++n;
    }
    return absl::OkStatus();
  }

  int64_t bytes_read() const override { return archive_filter_bytes(archive_, -1); }
  const std::string& header() const override { return header_; }
  int items_per_record() const override { return 4; }
  bool has_images() const override { return true; }

 private:
  // Reads the next entry into `*file` (sets pending_valid_), or sets done_.
  absl::Status NextFile(SampleFile* file, bool* is_file) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(archive_, &entry);
    if (rc == ARCHIVE_EOF) {
      done_ = true;
      return absl::OkStatus();
    }
    if (rc < ARCHIVE_WARN) {
      // libarchive notes where each header starts, failed ones too.
      return absl::DataLossError(absl::StrCat("corrupt tar at byte ", archive_read_header_position(archive_),
                                              last_member_.empty() ? "" : absl::StrCat(" (after member ", last_member_, ")"),
                                              ": ", archive_error_string(archive_)));
    }
    file->name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    file->mtime = archive_entry_mtime(entry);
    file->mode = archive_entry_perm(entry);
    file->bytes.clear();
    *is_file = archive_entry_filetype(entry) == AE_IFREG;
    // Directories are written back; links and devices have no place in a
    // shard and are dropped.
    file->is_dir = archive_entry_filetype(entry) == AE_IFDIR;
    if (!*is_file && !file->is_dir) return NextFile(file, is_file);
    if (*is_file) {
      const int64_t size = archive_entry_size(entry);
      if (size > 0 && size < kMaxFileBytes) file->bytes.reserve(static_cast<size_t>(size));
      char buf[65536];
      for (;;) {
        const la_ssize_t got = archive_read_data(archive_, buf, sizeof(buf));
        if (got < 0) {
          return absl::DataLossError(absl::StrCat("corrupt tar at byte ", archive_read_header_position(archive_),
                                                  " (member ", file->name, "): ", archive_error_string(archive_)));
        }
        if (got == 0) break;
        if (static_cast<int64_t>(file->bytes.size()) < kMaxFileBytes) file->bytes.append(buf, got);
      }
    }
    last_member_ = file->name;
    pending_valid_ = true;
    return absl::OkStatus();
  }

  archive* const archive_;
  const ReaderOptions options_;
  std::string header_;
  SampleFile pending_;
  std::string last_member_;  // for errors
  bool pending_valid_ = false;
  bool pending_is_file_ = false;
  bool done_ = false;
  uint64_t samples_ = 0;
};

class FolderReader final : public RecordReader {
 public:
  FolderReader(std::string root, std::vector<FolderFile> files, ReaderOptions options)
      : root_(std::move(root)), files_(std::move(files)), options_(std::move(options)) {}

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    for (size_t n = 0; n < max_records && next_ < files_.size(); ++n) {
      Record r;
      r.key = SampleKey(files_[next_].name);
      // A file known to be unchecked is a record of its own; the others
      // sharing a key form one sample.
      const bool alone = !files_[next_].unchecked.empty();
      do {
        const FolderFile& file = files_[next_++];
        SampleFile f;
        f.name = file.name;
        f.source = root_ + "/" + f.name;
        struct stat st;
        const bool found = ::stat(f.source.c_str(), &st) == 0;
        if (!found && !alone) return absl::UnavailableError(absl::StrCat("cannot read ", f.source));
        if (found) {
          f.mode = st.st_mode & 07777;
          f.mtime = st.st_mtime;
          bytes_ += st.st_size;
        }
        if (alone) {
          // Reported, never read; copied later only if it is a plain file.
          r.unchecked = absl::StrCat(f.name, ": ", file.unchecked);
          if (!found || !S_ISREG(st.st_mode)) r.incomplete = true;
        } else if (st.st_size >= kMaxFileBytes) {
          Flag(&r, absl::StrCat(f.name, " is larger than 512 MiB"));
        } else {
          std::ifstream in(f.source, std::ios::binary);
          std::ostringstream ss;
          ss << in.rdbuf();
          if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", f.source));
          f.bytes = ss.str();
        }
        r.files.push_back(std::move(f));
      } while (!alone && next_ < files_.size() && files_[next_].unchecked.empty() &&
               SampleKey(files_[next_].name) == r.key);
      r.row = ++samples_;
      if (!alone) Interpret(options_, &r);
      out->push_back(std::move(r));
    }
    return absl::OkStatus();
  }

  int64_t bytes_read() const override { return bytes_; }
  const std::string& header() const override { return header_; }
  int items_per_record() const override { return 4; }
  bool has_images() const override { return true; }

 private:
  const std::string root_;
  const std::vector<FolderFile> files_;  // relative paths, sorted
  const ReaderOptions options_;
  std::string header_;
  size_t next_ = 0;
  int64_t bytes_ = 0;
  uint64_t samples_ = 0;
};

}  // namespace

std::string SampleKey(const std::string& name) {
  const size_t slash = name.rfind('/');
  const size_t base = slash == std::string::npos ? 0 : slash + 1;
  const size_t dot = name.find('.', base);
  return dot == std::string::npos ? name : name.substr(0, dot);
}

bool IsImageName(const std::string& name) {
  for (const char* ext : {".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic", ".heif", ".avif",
                          ".tif", ".tiff", ".bmp", ".jxl", ".jp2", ".svg", ".ico", ".psd"}) {
    if (absl::EndsWithIgnoreCase(name, ext)) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenShardReader(const std::string& path,
                                                              const ReaderOptions& options) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 20) != ARCHIVE_OK) {
    std::string error = archive_error_string(a) ? archive_error_string(a) : "unknown error";
    archive_read_free(a);
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", error));
  }
  return std::unique_ptr<RecordReader>(std::make_unique<ShardReader>(a, options));
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenFolderReader(const std::string& root,
                                                               std::vector<FolderFile> files,
                                                               const ReaderOptions& options) {
  return std::unique_ptr<RecordReader>(
      std::make_unique<FolderReader>(root, std::move(files), options));
}

}  // namespace optout::dataset
