#include "client/dataset/writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/dataset/compressed_io.h"

namespace optout::dataset {
namespace {

namespace fs = std::filesystem;

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

class TableWriter final : public RecordWriter {
 public:
  TableWriter(std::string path, std::unique_ptr<ByteWriter> out)
      : path_(std::move(path)), out_(std::move(out)) {}

  absl::Status Write(const Record& record) override { return out_->Write(record.raw); }

  absl::Status Commit() override {
    OPTOUT_RETURN_IF_ERROR(out_->Close());
    return SyncAndRename(path_ + ".partial", path_);
  }

 private:
  const std::string path_;
  const std::unique_ptr<ByteWriter> out_;
};

class ShardWriter final : public RecordWriter {
 public:
  ShardWriter(std::string path, archive* a) : path_(std::move(path)), archive_(a) {}
  ~ShardWriter() override {
    if (archive_ != nullptr) archive_write_free(archive_);
  }

  absl::Status Write(const Record& record) override {
    for (const SampleFile& f : record.files) {
      archive_entry* entry = archive_entry_new();
      archive_entry_set_pathname(entry, f.name.c_str());
      archive_entry_set_filetype(entry, f.is_dir ? AE_IFDIR : AE_IFREG);
      archive_entry_set_perm(entry, f.mode);
      archive_entry_set_mtime(entry, f.mtime, 0);
      archive_entry_set_size(entry, static_cast<la_int64_t>(f.bytes.size()));
      const bool ok = archive_write_header(archive_, entry) == ARCHIVE_OK &&
                      (f.bytes.empty() ||
                       archive_write_data(archive_, f.bytes.data(), f.bytes.size()) ==
                           static_cast<la_ssize_t>(f.bytes.size()));
      archive_entry_free(entry);
      if (!ok) {
        return absl::UnavailableError(
            absl::StrCat("cannot write ", path_, ".partial: ", archive_error_string(archive_)));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    const bool ok = archive_write_close(archive_) == ARCHIVE_OK;
    archive_write_free(archive_);
    archive_ = nullptr;
    if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path_, ".partial"));
    return SyncAndRename(path_ + ".partial", path_);
  }

 private:
  const std::string path_;
  archive* archive_;
};

class FolderWriter final : public RecordWriter {
 public:
  explicit FolderWriter(std::string dir) : dir_(std::move(dir)) {}

  absl::Status Write(const Record& record) override {
    for (const SampleFile& f : record.files) {
      const fs::path target = fs::path(dir_) / f.name;
      std::error_code ec;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", target.parent_path().string()));
      if (f.bytes.empty() && !f.source.empty()) {
        // Not read into memory (too large, or never checked): copied as is.
        fs::copy_file(f.source, target, fs::copy_options::overwrite_existing, ec);
        if (ec) return absl::UnavailableError(absl::StrCat("cannot copy to ", target.string(), ": ", ec.message()));
      } else {
        std::FILE* out = std::fopen(target.c_str(), "wb");
        if (out == nullptr) return IoError("cannot create", target.string());
        const bool ok = std::fwrite(f.bytes.data(), 1, f.bytes.size(), out) == f.bytes.size();
        if (std::fclose(out) != 0 || !ok) return IoError("cannot write", target.string());
      }
      ::chmod(target.c_str(), static_cast<mode_t>(f.mode));
    }
    return absl::OkStatus();
  }

  // Each file is complete once written; the caller moves the folder.
  absl::Status Commit() override { return absl::OkStatus(); }

 private:
  const std::string dir_;
};

}  // namespace

absl::Status SyncAndRename(const std::string& from, const std::string& to) {
  const int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(from.c_str(), to.c_str()) != 0) return IoError("cannot rename to", to);
  return absl::OkStatus();
}

absl::Status RemovePath(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RecordWriter>> OpenTableWriter(const std::string& path,
                                                              const std::string& header,
                                                              Compression compression) {
  OPTOUT_ASSIGN_OR_RETURN(auto out, OpenByteWriter(path + ".partial", compression));
  auto writer = std::make_unique<TableWriter>(path, std::move(out));
  Record head;
  head.raw = header;
  OPTOUT_RETURN_IF_ERROR(writer->Write(head));
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

absl::StatusOr<std::unique_ptr<RecordWriter>> OpenShardWriter(const std::string& path) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, (path + ".partial").c_str()) != ARCHIVE_OK) {
    std::string error = archive_error_string(a) ? archive_error_string(a) : "unknown error";
    archive_write_free(a);
    return absl::UnavailableError(absl::StrCat("cannot create ", path, ".partial: ", error));
  }
  return std::unique_ptr<RecordWriter>(std::make_unique<ShardWriter>(path, a));
}

absl::StatusOr<std::unique_ptr<RecordWriter>> OpenFolderWriter(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  return std::unique_ptr<RecordWriter>(std::make_unique<FolderWriter>(dir));
}

}  // namespace optout::dataset
