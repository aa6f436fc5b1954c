// File: client/dataset/compressed_io.h
//
// Byte streams of table files, plain or compressed as a whole (gzip with
// zlib, zstd with libzstd), so the CSV / TSV / JSONL readers and writers
// work the same on "x.csv" and "x.csv.gz". Concatenated gzip members and
// zstd frames are read as one stream. A corrupt or truncated stream is
// DataLoss naming the compressed byte offset.
//
// Thread-compatible.
#ifndef OPTOUT_CLIENT_DATASET_COMPRESSED_IO_H_
#define OPTOUT_CLIENT_DATASET_COMPRESSED_IO_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/dataset/record.h"

namespace optout::dataset {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Up to `n` decompressed bytes into `buffer`; 0 at the end.
  virtual absl::StatusOr<size_t> Read(char* buffer, size_t n) = 0;
  // File bytes consumed so far (for progress).
  virtual int64_t file_bytes_read() const = 0;
};

class ByteWriter {
 public:
  virtual ~ByteWriter() = default;
  virtual absl::Status Write(absl::string_view bytes) = 0;
  // Ends the stream, flushes and fsyncs the file, closes it.
  virtual absl::Status Close() = 0;
};

// NotFound / Unavailable when the file cannot be opened.
absl::StatusOr<std::unique_ptr<ByteReader>> OpenByteReader(const std::string& path,
                                                           Compression compression);
absl::StatusOr<std::unique_ptr<ByteWriter>> OpenByteWriter(const std::string& path,
                                                           Compression compression);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_COMPRESSED_IO_H_
