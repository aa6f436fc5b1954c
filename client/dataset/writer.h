// File: client/dataset/writer.h
//
// Writers of the filtered copy of one input, in its own format and order.
// Table and shard output goes to "<path>.partial" (whose folder must exist)
// and is renamed to `path` by Commit(), so a
// finished output is always complete: an interrupted run leaves only a
// .partial behind, which the next run replaces.
//
// Thread-compatible: one thread uses a writer.
#ifndef OPTOUT_CLIENT_DATASET_WRITER_H_
#define OPTOUT_CLIENT_DATASET_WRITER_H_

#include <memory>
#include <optional>
#include <vector>
#include <string>

#include "absl/status/statusor.h"
#include "client/dataset/record.h"

namespace optout::dataset {

class RecordReader;  // reader.h

class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // Writes a record that is kept (or a passthrough one).
  virtual absl::Status Write(const Record& record) = 0;
  // Flushes, syncs and moves the output into place.
  virtual absl::Status Commit() = 0;
};

// Tables: `header` first, then each kept record's exact bytes, compressed
// as `compression` says.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenTableWriter(const std::string& path,
                                                              const std::string& header,
                                                              Compression compression = Compression::kNone);
// Parquet: the kept rows of `source`'s row groups `row_groups` (all when
// absent) with the source's schema, column order, row order, key/value
// metadata and compression. A row group that loses no row is copied byte
// for byte; one that loses all is left out; the others are rewritten.
// Records must come in row order. DataLoss / Unimplemented when a row
// group to rewrite cannot be decoded (naming the column). `reader`, when it
// is the OpenParquetReader of `source` over the same row groups, lends the
// columns it decoded, so they are not decoded twice.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenParquetWriter(
    const std::string& path, const std::string& source,
    const std::optional<std::vector<int>>& row_groups = std::nullopt,
    const RecordReader* reader = nullptr);
// Webdataset shards: the kept samples' files, as a POSIX (pax) tar.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenShardWriter(const std::string& path);
// Image folders: the kept samples' files written straight into the folder
// `dir` (created if needed); a file not held in memory is copied from its
// SampleFile::source. Commit() does nothing: the caller writes the whole
// folder under a temporary name and renames it when every part is done.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenFolderWriter(const std::string& dir);

// fsyncs `from` and renames it to `to`.
absl::Status SyncAndRename(const std::string& from, const std::string& to);

// Removes `path` (file or folder, recursively) if it exists.
absl::Status RemovePath(const std::string& path);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_WRITER_H_
