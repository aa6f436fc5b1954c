// File: client/dataset/reader.h
//
// Readers turn one dataset input into Records, a bounded number at a time,
// so memory stays bounded whatever the input size:
//   tables  CSV, TSV (header row; URL column found by name or --url-column;
//           optional md5 / sha256 columns), JSONL (same names as keys),
//           URL lists (one URL per line), each plain or gzip / zstd
//           compressed; Parquet (the same column names);
//   images  webdataset .tar shards (KEY.jpg|png|webp|... + KEY.json with a
//           URL key) and the image samples of folders (same grouping by key).
// A row that cannot be understood (broken JSON, bad quoting, bad digest) is
// still returned, with Record::unchecked saying why: never an error. So is a
// sample that cannot be checked whole: an image the decoder cannot read (it
// decides, so a newly decodable format just works), two images under one
// key, a .json without a URL key, an archive among its files, or nothing to
// check at all. Errors are for the input as a whole: InvalidArgument when it
// is not what it claims (not UTF-8 text, no URL column), DataLoss for a
// truncated or corrupt archive, NotFound / Unavailable when it cannot be read.
//
// Thread-compatible: one thread uses a reader.
#ifndef OPTOUT_CLIENT_DATASET_READER_H_
#define OPTOUT_CLIENT_DATASET_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/dataset/record.h"

namespace optout::dataset {

struct ReaderOptions {
  // Name of the URL column (tables) or key (JSONL, sample .json). Default:
  // the best of url, image_url, img_url, ... found (field_names.h).
  std::string url_column;
  // Parquet: a flat string column read into Record::pair_key (img2dataset
  // shards). Default: none.
  std::string key_column;
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // Appends up to `max_records` records to `*out`; appends none at the end.
  virtual absl::Status Read(size_t max_records, std::vector<Record>* out) = 0;
  // Like Read, but `*out` holds records of an earlier chunk that are done
  // with and replaces them: afterwards it holds exactly the records read.
  // A reader that refills them in place (ClearForReuse) keeps their string
  // buffers; by default they are dropped and Read appends.
  virtual absl::Status ReadReusing(size_t max_records, std::vector<Record>* out) {
    out->clear();
    return Read(max_records, out);
  }
  // Input bytes consumed so far (for progress and ETA).
  virtual int64_t bytes_read() const = 0;
  // Bytes the filtered output starts with (the header row of CSV/TSV).
  virtual const std::string& header() const = 0;
  // At most how many check items one record brings (URL, PDQ, SHA-256, MD5).
  virtual int items_per_record() const = 0;
  // Records hold images to hash (the expensive kind).
  virtual bool has_images() const = 0;
};

// InvalidArgument when a table has no URL column (and no md5/sha256 column);
// NotFound / Unavailable when the input cannot be read; DataLoss when its
// compression is corrupt.
absl::StatusOr<std::unique_ptr<RecordReader>> OpenTableReader(const std::string& path,
                                                              Format format,
                                                              const ReaderOptions& options,
                                                              Compression compression = Compression::kNone);
// Parquet (flat URL / md5 / sha256 columns; other columns may be nested,
// they are only copied). `row_groups`: the row groups to read (all when
// absent), in file order. Record::row is the row's 1-based number in the
// whole file. InvalidArgument when there is no URL column or it is not a
// string; Unimplemented when it is nested or repeated (naming it);
// DataLoss for a corrupt file (naming the byte).
absl::StatusOr<std::unique_ptr<RecordReader>> OpenParquetReader(
    const std::string& path, const ReaderOptions& options,
    const std::optional<std::vector<int>>& row_groups = std::nullopt);
absl::StatusOr<std::unique_ptr<RecordReader>> OpenShardReader(const std::string& path,
                                                              const ReaderOptions& options = {});

// A file of a folder for OpenFolderReader: its path relative to the folder
// and, when it is known not to be checkable (a refused manifest, a link to
// a folder), why; such a file becomes an unchecked record of its own.
struct FolderFile {
  std::string name;
  std::string unchecked;
};
// The samples among `files` (sorted by name, so a key's files are adjacent).
absl::StatusOr<std::unique_ptr<RecordReader>> OpenFolderReader(const std::string& root,
                                                               std::vector<FolderFile> files,
                                                               const ReaderOptions& options = {});

// The webdataset key of a file name: the path up to the first '.' of its
// last component ("a/b/000012.jpg" -> "a/b/000012").
std::string SampleKey(const std::string& name);
// Names of image files (any case): jpg, jpeg, png, webp, gif, heic, heif,
// avif, tif, tiff, bmp, ... Whether one can be decoded is the hasher's call.
bool IsImageName(const std::string& name);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_READER_H_
