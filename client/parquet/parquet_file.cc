#include "client/parquet/parquet_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"

namespace optout::parquet {
namespace {

// Prefixes the file name, keeping the code.
absl::Status InFile(const std::string& name, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
}

absl::Status CheckRows(const ColumnDescriptor& column, const ColumnData& data, int64_t rows,
                       int64_t chunk_at) {
  int64_t found = static_cast<int64_t>(data.num_levels);
  if (column.max_rep > 0) {
    found = 0;
    for (uint8_t r : data.rep) found += r == 0;
  }
  if (found != rows) {
    return absl::DataLossError(absl::StrCat("column ", column.name, " (chunk at byte ", chunk_at,
                                            ") holds ", found, " rows where its row group has ", rows));
  }
  return absl::OkStatus();
}

}  // namespace

bool LooksLikeParquet(absl::string_view head) { return absl::StartsWith(head, kMagic); }

ParquetFile::ParquetFile(std::string name, int fd, std::string bytes, int64_t size, ReadLimits limits)
    : name_(std::move(name)), fd_(fd), bytes_(std::move(bytes)), size_(size), limits_(limits) {}

ParquetFile::~ParquetFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<ParquetFile>> ParquetFile::Open(const std::string& path,
                                                               const ReadLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const bool missing = errno == ENOENT;
    const std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(errno));
    return missing ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat(path, ": cannot stat"));
  }
  std::unique_ptr<ParquetFile> file(new ParquetFile(path, fd, "", st.st_size, limits));
  OPTOUT_RETURN_IF_ERROR(InFile(path, file->Init()));
  return file;
}

absl::StatusOr<std::unique_ptr<ParquetFile>> ParquetFile::FromBytes(std::string bytes,
                                                                    std::string name,
                                                                    const ReadLimits& limits) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  std::unique_ptr<ParquetFile> file(new ParquetFile(name, -1, std::move(bytes), size, limits));
  OPTOUT_RETURN_IF_ERROR(InFile(name, file->Init()));
  return file;
}

absl::Status ParquetFile::ReadAt(int64_t offset, int64_t length, std::string* out) const {
  if (offset < 0 || length < 0 || offset > size_ || length > size_ - offset) {
    return absl::DataLossError(absl::StrCat("range at byte ", offset, " runs past the end of the file"));
  }
  if (fd_ < 0) {
    out->assign(bytes_, static_cast<size_t>(offset), static_cast<size_t>(length));
    return absl::OkStatus();
  }
  out->resize(static_cast<size_t>(length));
  int64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, out->data() + done, static_cast<size_t>(length - done), offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("read error at byte ", offset + done));
    if (n == 0) return absl::DataLossError(absl::StrCat("file ends at byte ", offset + done, " (truncated while read?)"));
    done += n;
  }
  return absl::OkStatus();
}

absl::Status ParquetFile::Init() {
  // [PAR1] data... [footer][4-byte footer length][PAR1]
  if (size_ < 12) return absl::InvalidArgumentError(absl::StrCat("not a Parquet file (", size_, " bytes)"));
  std::string head, tail;
  OPTOUT_RETURN_IF_ERROR(ReadAt(0, 4, &head));
  OPTOUT_RETURN_IF_ERROR(ReadAt(size_ - 8, 8, &tail));
  if (head == "PARE" || tail.substr(4) == "PARE") {
    return absl::UnimplementedError("encrypted Parquet files are not supported");
  }
  if (head != kMagic) return absl::InvalidArgumentError("not a Parquet file (no PAR1 at byte 0)");
  if (tail.substr(4) != kMagic) {
    return absl::DataLossError(absl::StrCat("no PAR1 at byte ", size_ - 4, ": truncated or not finished"));
  }
  uint32_t footer_length;
  std::memcpy(&footer_length, tail.data(), 4);
  if (footer_length > static_cast<uint64_t>(size_ - 12)) {
    return absl::DataLossError(absl::StrCat("footer length ", footer_length, " at byte ", size_ - 8,
                                            " is larger than the file"));
  }
  const int64_t footer_at = size_ - 8 - footer_length;
  std::string footer;
  OPTOUT_RETURN_IF_ERROR(ReadAt(footer_at, footer_length, &footer));
  OPTOUT_ASSIGN_OR_RETURN(metadata_, ParseFileMetadata(footer, footer_at, size_));
  return absl::OkStatus();
}

absl::StatusOr<ColumnData> ParquetFile::ReadColumn(int row_group, int column) {
  const RowGroupInfo& group = metadata_.row_groups.at(row_group);
  const ChunkInfo& chunk = group.chunks.at(column);
  const ColumnDescriptor& desc = metadata_.columns[column];
  OPTOUT_RETURN_IF_ERROR(InFile(name_, ReadAt(chunk.start, chunk.length, &chunk_)));
  auto data = DecodeColumnChunk(chunk_, chunk.start, desc, chunk, limits_);
  if (!data.ok()) return InFile(name_, data.status());
  OPTOUT_RETURN_IF_ERROR(InFile(name_, CheckRows(desc, *data, group.num_rows, chunk.start)));
  return data;
}

absl::StatusOr<std::optional<DictionaryChunk>> ParquetFile::ReadDictionaryColumn(int row_group,
                                                                                int column) {
  const RowGroupInfo& group = metadata_.row_groups.at(row_group);
  const ChunkInfo& chunk = group.chunks.at(column);
  const ColumnDescriptor& desc = metadata_.columns[column];
  OPTOUT_RETURN_IF_ERROR(InFile(name_, ReadAt(chunk.start, chunk.length, &chunk_)));
  auto data = DecodeDictionaryChunk(chunk_, chunk.start, desc, chunk, limits_);
  if (!data.ok()) return InFile(name_, data.status());
  if (data->has_value()) {
    OPTOUT_RETURN_IF_ERROR(
        InFile(name_, CheckRows(desc, (*data)->indices, group.num_rows, chunk.start)));
  }
  return data;
}

absl::StatusOr<std::string> ParquetFile::ReadChunkBytes(int row_group, int column) {
  const ChunkInfo& chunk = metadata_.row_groups.at(row_group).chunks.at(column);
  std::string bytes;
  OPTOUT_RETURN_IF_ERROR(InFile(name_, ReadAt(chunk.start, chunk.length, &bytes)));
  return bytes;
}

}  // namespace optout::parquet
