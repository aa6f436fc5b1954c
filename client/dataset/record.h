// File: client/dataset/record.h
//
// The unit a dataset check works on: one row of a table (CSV, TSV, JSONL,
// URL list) or one sample of an image collection (a webdataset shard or a
// folder: the files sharing a key). A Record carries what is needed to check
// it and what is needed to write it back unchanged. Plain value types.
#ifndef OPTOUT_CLIENT_DATASET_RECORD_H_
#define OPTOUT_CLIENT_DATASET_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace optout::dataset {

enum class Format { kCsv, kTsv, kJsonl, kUrlList, kWebdataset, kImageFolder, kParquet };

// "csv", "tsv", "jsonl", "urls", "webdataset", "folder", "parquet".
const char* FormatName(Format format);

// Whole-file compression of a text table (name.csv.gz, name.jsonl.zst):
// read through it, and the filtered copy is written with the same.
enum class Compression { kNone, kGzip, kZstd };

// One file of a sample, kept to be written back.
struct SampleFile {
  std::string name;  // path inside the shard / relative to the folder
  std::string bytes;
  int64_t mtime = 0;
  int mode = 0644;
  bool is_dir = false;  // a directory entry of a shard
  // Folder files not read into `bytes` (too large, or unchecked): the file
  // to copy from when the record is written.
  std::string source;
};

struct Record;
// sizeof(Record) on 64-bit builds when ClearForReuse was last brought up
// to date.
inline constexpr size_t kRecordBytesResetByClearForReuse = 432;

struct Record {
  // Not a row (blank line, directory entry): written back as is, never
  // checked or counted.
  bool passthrough = false;
  // Where it is: 1-based data row of a table (header not counted), or the
  // sample key of a shard or folder.
  uint64_t row = 0;
  std::string key;
  // img2dataset shards: the `key` column of a Parquet row, naming the
  // sample of the shard's tar it belongs to (img2dataset.h).
  std::string pair_key;

  // What the reader found to check.
  std::string url;
  bool has_url = false;
  std::string md5;     // 16 raw bytes, or empty
  std::string sha256;  // 32 raw bytes, or empty
  int image_file = -1;  // index into `files` of the image to hash, or -1
  // Why (part of) the record cannot be checked; empty when it can.
  std::string unchecked;
  // `files` do not hold all the bytes (a shard member over the size limit):
  // never written, even with --keep-unchecked, rather than written cut.
  bool incomplete = false;

  // How to write it back: the record's exact bytes (tables) or its files.
  std::string raw;
  std::vector<SampleFile> files;

  // Filled by PrepareRecord (chunk_check.h).
  std::string url_digests;   // N x 32 bytes, exact expression first
  uint32_t url_count = 0;    // N; 0 = no URL to check
  std::string pdq;           // 9 x 32 bytes (hash + 8 dihedral), or empty
  std::string pdq_regions;   // R x 32 bytes: the image's trimmed regions (with pdq)
  bool low_quality = false;  // image hashed but PDQ quality below the lowest accepted
  bool pdq_low_quality = false;  // pdq sent as low-quality (PackedItems.pdq_low_quality)
  // Regions in their own tiers (PackedItems.pdq_region_low_quality): one
  // byte per region of pdq_regions, 1 for a low-quality one, 0 for a
  // normal one; empty when they take pdq_low_quality's tier.
  std::string pdq_region_low;
};

// Makes `*r` equal to a default Record again but keeps the heap buffers of
// its strings, so that a reader refilling it (RecordReader::ReadReusing)
// allocates nothing: three allocations and frees per Parquet row before.
// Field by field rather than `*r = Record()` with the buffers moved aside,
// which was ~4 % of the client's CPU per Parquet row. The size check makes
// adding a field to Record fail to compile until it is reset here too.
inline void ClearForReuse(Record* r) {
  static_assert(sizeof(void*) != 8 || sizeof(Record) == kRecordBytesResetByClearForReuse,
                "a field was added to Record: reset it in ClearForReuse, then update the size");
  r->passthrough = false;
  r->row = 0;
  r->key.clear();
  r->pair_key.clear();
  r->url.clear();
  r->has_url = false;
  r->md5.clear();
  r->sha256.clear();
  r->image_file = -1;
  r->unchecked.clear();
  r->incomplete = false;
  r->raw.clear();
  r->files.clear();
  r->url_digests.clear();
  r->url_count = 0;
  r->pdq.clear();
  r->pdq_regions.clear();
  r->low_quality = false;
  r->pdq_low_quality = false;
  r->pdq_region_low.clear();
}

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_RECORD_H_
