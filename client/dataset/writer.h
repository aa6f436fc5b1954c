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
#include <string>

#include "absl/status/statusor.h"
#include "client/dataset/record.h"

namespace optout::dataset {

class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  // Writes a record that is kept (or a passthrough one).
  virtual absl::Status Write(const Record& record) = 0;
  // Flushes, syncs and moves the output into place.
  virtual absl::Status Commit() = 0;
};

// Tables: `header` first, then each kept record's exact bytes.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenTableWriter(const std::string& path,
                                                              const std::string& header);
// Webdataset shards: the kept samples' files, as a POSIX (pax) tar.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenShardWriter(const std::string& path);
// Image folders: the kept samples' files written straight into the folder
// `dir` (created if needed); a file not held in memory is copied from its
// SampleFile::source. Commit() does nothing: the caller writes the whole
// folder under a temporary name and renames it when every part is done.
absl::StatusOr<std::unique_ptr<RecordWriter>> OpenFolderWriter(const std::string& dir);

// Removes `path` (file or folder, recursively) if it exists.
absl::Status RemovePath(const std::string& path);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_WRITER_H_
