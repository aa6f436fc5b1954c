// File: client/parquet/parquet_file.h
//
// ParquetFile: one Parquet file opened for reading. Open() reads and checks
// the footer (magic bytes, metadata length, FileMetaData); column chunks
// are read on demand, each with one positioned read, and decoded by
// column_reader.h. Every error names the file, and for corrupt content the
// byte offset: DataLoss for corrupt or truncated files, InvalidArgument for
// a file that is not Parquet at all, Unimplemented for features not read
// here (encryption, codecs, encodings; naming the column), NotFound /
// Unavailable for I/O. Never crashes on input.
//
// Thread-compatible; reads may run concurrently only on distinct objects.
#ifndef OPTOUT_CLIENT_PARQUET_PARQUET_FILE_H_
#define OPTOUT_CLIENT_PARQUET_PARQUET_FILE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/parquet/column_data.h"
#include "client/parquet/column_reader.h"
#include "client/parquet/metadata.h"

namespace optout::parquet {

// "PAR1", at the start and the end of every Parquet file.
inline constexpr char kMagic[] = "PAR1";

class ParquetFile final {
 public:
  static absl::StatusOr<std::unique_ptr<ParquetFile>> Open(const std::string& path,
                                                           const ReadLimits& limits = {});
  // A file held in memory (tests, the fuzzer); `name` is used in messages.
  static absl::StatusOr<std::unique_ptr<ParquetFile>> FromBytes(std::string bytes,
                                                                std::string name,
                                                                const ReadLimits& limits = {});
  ~ParquetFile();
  ParquetFile(const ParquetFile&) = delete;
  ParquetFile& operator=(const ParquetFile&) = delete;

  const std::string& name() const { return name_; }
  const FileMetadata& metadata() const { return metadata_; }
  int64_t size() const { return size_; }

  // Column `column` (leaf index) of row group `row_group`, decoded. Checks
  // that it holds exactly the row group's rows.
  absl::StatusOr<ColumnData> ReadColumn(int row_group, int column);
  // The chunk in dictionary form (column_reader.h, DecodeDictionaryChunk),
  // with the same checks as ReadColumn; nullopt when not every data page is
  // dictionary-encoded.
  absl::StatusOr<std::optional<DictionaryChunk>> ReadDictionaryColumn(int row_group, int column);
  // The chunk's stored bytes, for a verbatim copy.
  absl::StatusOr<std::string> ReadChunkBytes(int row_group, int column);

 private:
  ParquetFile(std::string name, int fd, std::string bytes, int64_t size, ReadLimits limits);
  absl::Status Init();
  absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) const;

  const std::string name_;
  const int fd_;            // -1 when the bytes are in memory
  const std::string bytes_;
  const int64_t size_;
  const ReadLimits limits_;
  FileMetadata metadata_;
  std::string chunk_;
};

// Whether `head` (a file's first bytes) and its size look like Parquet.
bool LooksLikeParquet(absl::string_view head);

}  // namespace optout::parquet

#endif  // OPTOUT_CLIENT_PARQUET_PARQUET_FILE_H_
