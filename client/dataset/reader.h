// File: client/dataset/reader.h
//
// Readers turn one dataset input into Records, a bounded number at a time,
// so memory stays bounded whatever the input size:
//   tables  CSV, TSV (header row; URL column found by name or --url-column;
//           optional md5 / sha256 columns), JSONL (same names as keys),
//           URL lists (one URL per line);
//   images  webdataset .tar shards (KEY.jpg|png|webp + KEY.json with "url")
//           and folders of images (same grouping by key).
// A row that cannot be understood (broken JSON, bad quoting, bad digest) is
// still returned, with Record::unchecked saying why: never an error.
// Errors are for the input as a whole (cannot open, truncated archive).
//
// Thread-compatible: one thread uses a reader.
#ifndef OPTOUT_CLIENT_DATASET_READER_H_
#define OPTOUT_CLIENT_DATASET_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/dataset/record.h"

namespace optout::dataset {

struct ReaderOptions {
  // Name of the URL column (tables) or key (JSONL). Default: the first of
  // url, image_url, img_url, URL-like names found (case-insensitive).
  std::string url_column;
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // Appends up to `max_records` records to `*out`; appends none at the end.
  virtual absl::Status Read(size_t max_records, std::vector<Record>* out) = 0;
  // Input bytes consumed so far (for progress and ETA).
  virtual int64_t bytes_read() const = 0;
  // Bytes the filtered output starts with (the header row of CSV/TSV).
  virtual const std::string& header() const = 0;
  // At most how many check items one record brings (URL, PDQ, SHA-256, MD5).
  virtual int items_per_record() const = 0;
  // Records hold images to hash (the expensive kind).
  virtual bool has_images() const = 0;
};

// From the path: a directory is an image folder; *.tar a webdataset shard;
// *.csv, *.tsv, *.jsonl / *.ndjson; anything else a URL list.
Format DetectFormat(const std::string& path, bool is_directory);

// InvalidArgument when a table has no URL column (and no md5/sha256 column);
// NotFound / Unavailable when the input cannot be read.
absl::StatusOr<std::unique_ptr<RecordReader>> OpenTableReader(const std::string& path,
                                                              Format format,
                                                              const ReaderOptions& options);
absl::StatusOr<std::unique_ptr<RecordReader>> OpenShardReader(const std::string& path);
absl::StatusOr<std::unique_ptr<RecordReader>> OpenFolderReader(const std::string& path);

// The webdataset key of a file name: the path up to the first '.' of its
// last component ("a/b/000012.jpg" -> "a/b/000012").
std::string SampleKey(const std::string& name);
// The image extensions hashed: jpg, jpeg, png, webp (any case).
bool IsImageName(const std::string& name);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_READER_H_
