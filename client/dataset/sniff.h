// File: client/dataset/sniff.h
//
// What a file holds, judged from its first bytes (magic numbers, UTF-8
// validity) and what check-dataset does with it. A name alone is not
// trusted: a zip named .csv, a JPEG named .csv or a gzip-compressed manifest
// must be refused, not read as garbled rows and copied under the original's
// name. Recognised and read: UTF-8 text (CSV, TSV, JSONL, URL lists), tar
// (webdataset shards), images (hashed inside folders and shards), Parquet,
// and gzip / zstd files named as compressed tables (.csv.gz, .jsonl.zst,
// ...; their text is checked as it is read). Recognised to be refused by
// name: other gzip / zstd files, bzip2, xz, lz4, zip, 7z, rar, Arrow /
// Feather, UTF-16 text.
//
// Pure functions and a small value type; thread-safe.
#ifndef OPTOUT_CLIENT_DATASET_SNIFF_H_
#define OPTOUT_CLIENT_DATASET_SNIFF_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/dataset/record.h"

namespace optout::dataset {

// Bytes of a file's start that SniffContent needs (a tar header is 512).
inline constexpr size_t kSniffBytes = 64 * 1024;

enum class ContentKind {
  kEmpty,      // 0 bytes
  kText,       // valid UTF-8 without NUL bytes
  kTar,        // a tar archive (ustar or v7 header)
  kImage,      // an image format the hasher recognises (decodable or not)
  kParquet,    // starts with PAR1 (the reader checks the rest)
  kCompressed,  // gzip or zstd: Sniffed::compression says which
  kContainer,  // a compressed file, archive or columnar format not read here
  kBinary,     // anything else: NUL bytes or invalid UTF-8
};

struct Sniffed {
  ContentKind kind = ContentKind::kBinary;
  // What it looks like, for messages: "zip archive", "JPEG image",
  // "binary data (NUL byte at offset 12)".
  std::string what;
  // For a container: what the user should do ("unpack it first").
  std::string advice;
  Compression compression = Compression::kNone;  // kCompressed
};

// `head`: the file's first bytes (up to kSniffBytes). `whole_file`: `head`
// is the entire file, so a UTF-8 sequence cut at its end is invalid rather
// than cut by the window.
Sniffed SniffContent(absl::string_view head, bool whole_file);

// The format to read a file input as, from its name and its content; or
// InvalidArgument with the one-line reason it is refused (without the path),
// e.g. "zip archive: not supported; unpack it first". For kCompressed
// content, the format of the table inside ("x.csv.gz" -> kCsv); the name
// must say the compression and a table format.
absl::StatusOr<Format> DecideFileFormat(absl::string_view name, const Sniffed& content);

// Named like a table: *.csv, *.tsv, *.jsonl, *.ndjson, each also with .gz
// or .zst, and *.parquet (any case).
bool IsTableName(absl::string_view name);

// Streaming check that a text input stays valid UTF-8 without NUL bytes,
// block by block (a sequence may straddle two blocks). Cheap enough for the
// table readers' hot path: ASCII runs are checked eight bytes at a time.
class Utf8Validator final {
 public:
  // False at the first bad byte; error() then says what and where.
  bool Feed(absl::string_view block);
  // False when the input ended inside a multi-byte sequence.
  bool Finish();
  const std::string& error() const { return error_; }

 private:
  bool Fail(const char* what, uint64_t offset);

  uint64_t offset_ = 0;  // bytes fed before the current block
  // The incomplete sequence at the end of the last block.
  unsigned char pending_[4] = {};
  int pending_size_ = 0;
  std::string error_;
};

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_SNIFF_H_
