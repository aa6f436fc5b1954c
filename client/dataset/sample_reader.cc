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

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/dataset/reader.h"
#include "client/common/digest/digest.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

// Largest sample file read into memory; larger ones make the sample
// unchecked instead of exhausting memory. 512 MiB, the hasher's own limit.
constexpr int64_t kMaxFileBytes = int64_t{512} << 20;

// Fills the check fields of a sample from its files.
void Interpret(Record* r) {
  for (size_t i = 0; i < r->files.size(); ++i) {
    const SampleFile& f = r->files[i];
    if (IsImageName(f.name) && r->image_file < 0) r->image_file = static_cast<int>(i);
    if (!absl::EndsWithIgnoreCase(f.name, ".json")) continue;
    auto json = nlohmann::json::parse(f.bytes, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      r->unchecked = absl::StrCat("broken JSON in ", f.name);
      continue;
    }
    auto it = json.find("url");
    if (it != json.end() && it->is_string()) {
      r->url = it->get<std::string>();
      r->has_url = true;
    }
  }
}

class ShardReader final : public RecordReader {
 public:
  explicit ShardReader(archive* a) : archive_(a) {}
  ~ShardReader() override { archive_read_free(archive_); }

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    size_t n = 0;
    while (n < max_records) {
      if (!pending_valid_ && !done_) {
        absl::Status s = NextFile(&pending_, &pending_is_file_);
        if (!s.ok()) return s;
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
        absl::Status s = NextFile(&pending_, &pending_is_file_);
        if (!s.ok()) return s;
        if (done_ || !pending_is_file_ || SampleKey(pending_.name) != r.key) break;
        r.files.push_back(std::move(pending_));
        pending_valid_ = false;
      }
      r.row = ++samples_;
      for (const SampleFile& f : r.files) {
        if (static_cast<int64_t>(f.bytes.size()) >= kMaxFileBytes) {
          r.unchecked = absl::StrCat(f.name, " is larger than 512 MiB");
        }
      }
      Interpret(&r);
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
      return absl::DataLossError(absl::StrCat("corrupt tar: ", archive_error_string(archive_)));
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
          return absl::DataLossError(
              absl::StrCat("corrupt tar at ", file->name, ": ", archive_error_string(archive_)));
        }
        if (got == 0) break;
        if (static_cast<int64_t>(file->bytes.size()) < kMaxFileBytes) file->bytes.append(buf, got);
      }
    }
    pending_valid_ = true;
    return absl::OkStatus();
  }

  archive* const archive_;
  std::string header_;
  SampleFile pending_;
  bool pending_valid_ = false;
  bool pending_is_file_ = false;
  bool done_ = false;
  uint64_t samples_ = 0;
};

class FolderReader final : public RecordReader {
 public:
  FolderReader(std::string root, std::vector<std::string> files)
      : root_(std::move(root)), files_(std::move(files)) {}

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    for (size_t n = 0; n < max_records && next_ < files_.size(); ++n) {
      Record r;
      r.key = SampleKey(files_[next_]);
      while (next_ < files_.size() && SampleKey(files_[next_]) == r.key) {
        SampleFile f;
        f.name = files_[next_++];
        const std::string path = root_ + "/" + f.name;
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) {
          return absl::UnavailableError(absl::StrCat("cannot read ", path));
        }
        f.mode = st.st_mode & 07777;
        f.mtime = st.st_mtime;
        if (st.st_size >= kMaxFileBytes) {
          r.unchecked = absl::StrCat(f.name, " is larger than 512 MiB");
        } else {
          std::ifstream in(path, std::ios::binary);
          std::ostringstream ss;
          ss << in.rdbuf();
          if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
          f.bytes = ss.str();
        }
        bytes_ += st.st_size;
        r.files.push_back(std::move(f));
      }
      r.row = ++samples_;
      Interpret(&r);
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
  const std::vector<std::string> files_;  // relative paths, sorted
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
  for (const char* ext : {".jpg", ".jpeg", ".png", ".webp"}) {
    if (absl::EndsWithIgnoreCase(name, ext)) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenShardReader(const std::string& path) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 20) != ARCHIVE_OK) {
    std::string error = archive_error_string(a) ? archive_error_string(a) : "unknown error";
    archive_read_free(a);
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", error));
  }
  return std::unique_ptr<RecordReader>(std::make_unique<ShardReader>(a));
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenFolderReader(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(path, ec), end;
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read folder ", path));
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", path, ": ", ec.message()));
    if (it->is_regular_file(ec)) {
      files.push_back(fs::relative(it->path(), path, ec).generic_string());
    }
  }
  // Sorted so that a sample's files are adjacent and the order is stable.
  std::sort(files.begin(), files.end());
  return std::unique_ptr<RecordReader>(std::make_unique<FolderReader>(path, std::move(files)));
}

}  // namespace optout::dataset
