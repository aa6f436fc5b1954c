// check-dataset on Parquet: the reader hands out the rows of the URL /
// md5 / sha256 columns (only those are decoded); the writer rebuilds the
// file from the rows kept, row group by row group.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "client/common/base/status_macros.h"
#include "client/common/digest/digest.h"
#include "client/dataset/field_names.h"
#include "client/dataset/reader.h"
#include "client/dataset/writer.h"
#include "client/parquet/parquet_file.h"
#include "client/parquet/parquet_writer.h"

namespace optout::dataset {
namespace {

using parquet::ColumnData;
using parquet::ColumnDescriptor;
using parquet::ParquetFile;

std::vector<int> AllRowGroups(const ParquetFile& file) {
  std::vector<int> all(file.metadata().row_groups.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return all;
}

bool IsString(const ColumnDescriptor& c) {
  return c.type == parquet::PhysicalType::kByteArray;
}

using SharedColumn = std::shared_ptr<const ColumnData>;

// The columns the reader decoded (URL, md5, sha256, key), handed to the
// writer of the same file so that a row group it rewrites is not decoded
// twice. Held only while a writer is attached, and only until the writer
// has passed their row group, so memory stays one or two row groups.
class DecodedColumns final {
 public:
  void Attach() {
    absl::MutexLock lock(&mu_);
    attached_ = true;
  }
  void Put(int group, int column, SharedColumn data) {
    absl::MutexLock lock(&mu_);
    if (attached_ && group > done_) columns_[{group, column}] = std::move(data);
  }
  // The column if the reader decoded it (then it is dropped here); null
  // otherwise.
  SharedColumn Take(int group, int column) {
    absl::MutexLock lock(&mu_);
    auto it = columns_.find({group, column});
    if (it == columns_.end()) return nullptr;
    SharedColumn data = std::move(it->second);
    columns_.erase(it);
    return data;
  }
  bool Has(int group, int column) {
    absl::MutexLock lock(&mu_);
    return columns_.count({group, column}) > 0;
  }
  // The writer is past `group`: its columns are no longer wanted.
  void Done(int group) {
    absl::MutexLock lock(&mu_);
    done_ = std::max(done_, group);
    for (auto it = columns_.begin(); it != columns_.end();) {
      it = it->first.first <= group ? columns_.erase(it) : std::next(it);
    }
  }

 private:
  absl::Mutex mu_;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  int done_ ABSL_GUARDED_BY(mu_) = -1;
  std::map<std::pair<int, int>, SharedColumn> columns_ ABSL_GUARDED_BY(mu_);
};

class ParquetReader final : public RecordReader {
 public:
  ParquetReader(std::unique_ptr<ParquetFile> file, std::vector<int> row_groups)
      : file_(std::move(file)), row_groups_(std::move(row_groups)) {}

  absl::Status Init(const ReaderOptions& options) {
    const parquet::FileMetadata& meta = file_->metadata();
    std::vector<std::string> names;
    for (const ColumnDescriptor& c : meta.columns) names.push_back(c.name);
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string lower = absl::AsciiStrToLower(names[i]);
      if (lower == "md5") md5_col_ = static_cast<int>(i);
      if (lower == "sha256") sha256_col_ = static_cast<int>(i);
    }
    url_col_ = FindUrlName(names, options.url_column);
    if (!options.key_column.empty()) {
      auto key = std::find(names.begin(), names.end(), options.key_column);
      if (key != names.end() && meta.columns[key - names.begin()].flat &&
          IsString(meta.columns[key - names.begin()])) {
        key_col_ = static_cast<int>(key - names.begin());
      }
    }
    if (url_col_ < 0 && (!options.url_column.empty() || (md5_col_ < 0 && sha256_col_ < 0))) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.url_column.empty() ? absl::StrCat("no URL column found (looked for ", UrlNameList(), ")")
                                     : absl::StrCat("no column named \"", options.url_column, "\""),
          "; name it with --url-column (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    for (int col : {url_col_, md5_col_, sha256_col_}) {
      if (col < 0) continue;
      const ColumnDescriptor& c = meta.columns[col];
      if (!c.flat) {
        return absl::UnimplementedError(absl::StrCat(
            "column ", c.name, " is nested or repeated; only a flat column can be checked"));
      }
      const bool fixed = c.type == parquet::PhysicalType::kFixedLenByteArray;
      if (!IsString(c) && !(col != url_col_ && fixed)) {
        return absl::InvalidArgumentError(absl::StrCat("column ", c.name, " holds ",
                                                       parquet::PhysicalTypeName(c.type),
                                                       ", not strings"));
      }
    }
    for (int g : row_groups_) total_rows_ += meta.row_groups[g].num_rows;
    return absl::OkStatus();
  }

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    return Fill(max_records, [out]() -> Record& { return out->emplace_back(); });
  }

  absl::Status ReadReusing(size_t max_records, std::vector<Record>* out) override {
    size_t n = 0;
    absl::Status s = Fill(max_records, [out, &n]() -> Record& {
      if (n < out->size()) {
        ClearForReuse(&(*out)[n]);
        return (*out)[n++];
      }
      ++n;
      return out->emplace_back();
    });
    out->resize(n);
    return s;
  }

  // What the writer of this file may take instead of decoding again.  // What the writer of this file may take instead of decoding again.
  const std::shared_ptr<DecodedColumns>& decoded() const { return decoded_; }

  int64_t bytes_read() const override {
    if (total_rows_ == 0) return file_->size();
    return static_cast<int64_t>(static_cast<double>(file_->size()) * rows_done_ / total_rows_);
  }
  const std::string& header() const override { return header_; }
  int items_per_record() const override { return 3; }
  bool has_images() const override { return false; }

 private:
  // Fills up to `max_records` records, each into the Record `next()`
  // returns (a fresh or a cleared one).
  template <typename NextRecord>
  absl::Status Fill(size_t max_records, NextRecord next) {
    for (size_t n = 0; n < max_records; ++n) {
      while (next_row_ >= group_rows_) {
        if (next_group_ >= row_groups_.size()) return absl::OkStatus();
        OPTOUT_RETURN_IF_ERROR(LoadGroup(row_groups_[next_group_++]));
      }
      Record& record = next();
      record.row = static_cast<uint64_t>(group_first_row_ + next_row_) + 1;
      if (url_col_ >= 0 && url_.def_present(next_row_)) {
        const absl::string_view url = absl::StripAsciiWhitespace(url_.value());
        record.url.assign(url.data(), url.size());
        record.has_url = true;
      }
      if (key_col_ >= 0 && key_.def_present(next_row_)) record.pair_key = std::string(key_.value());
      if (md5_col_ >= 0 && md5_.def_present(next_row_)) SetDigest("md5", md5_.value(), 16, &record.md5, &record);
      if (sha256_col_ >= 0 && sha256_.def_present(next_row_)) {
        SetDigest("sha256", sha256_.value(), 32, &record.sha256, &record);
      }
      if (!record.has_url && record.md5.empty() && record.sha256.empty() && record.unchecked.empty()) {
        record.unchecked = "no URL (null)";
      }
      ++next_row_;
      ++rows_done_;
    }
    return absl::OkStatus();
  }

  // One flat column of the current row group, walked row by row.
  struct Cursor {
    SharedColumn data;
    bool optional = false;
    size_t next_value = 0;
    absl::string_view current;
    // Whether row `row` has a value; moves to it.
    bool def_present(int64_t row) {
      if (optional && data->def[row] == 0) return false;
      current = data->Value(next_value++);
      return true;
    }
    absl::string_view value() const { return current; }
  };

  absl::Status Load(int group, int col, Cursor* cursor) {
    if (col < 0) return absl::OkStatus();
    OPTOUT_ASSIGN_OR_RETURN(ColumnData data, file_->ReadColumn(group, col));
    cursor->data = std::make_shared<const ColumnData>(std::move(data));
    decoded_->Put(group, col, cursor->data);
    cursor->optional = file_->metadata().columns[col].max_def > 0;
    cursor->next_value = 0;
    return absl::OkStatus();
  }

  absl::Status LoadGroup(int group) {
    OPTOUT_RETURN_IF_ERROR(Load(group, url_col_, &url_));
    OPTOUT_RETURN_IF_ERROR(Load(group, md5_col_, &md5_));
    OPTOUT_RETURN_IF_ERROR(Load(group, sha256_col_, &sha256_));
    OPTOUT_RETURN_IF_ERROR(Load(group, key_col_, &key_));
    const parquet::RowGroupInfo& info = file_->metadata().row_groups[group];
    group_first_row_ = info.first_row;
    group_rows_ = info.num_rows;
    next_row_ = 0;
    return absl::OkStatus();
  }

  // A digest column holds hex text or the raw bytes.
  static void SetDigest(absl::string_view column, absl::string_view value, size_t bytes,
                        std::string* out, Record* record) {
    if (value.size() == bytes) {
      out->assign(value.data(), value.size());
      return;
    }
    value = absl::StripAsciiWhitespace(value);
    if (value.empty()) return;
    if (value.size() == 2 * bytes && digest::HexInto(value, out)) return;
    out->clear();
    if (record->unchecked.empty()) {
      record->unchecked = absl::StrCat("bad ", column, ": not ", bytes * 2, " hex digits");
    }
  }

  const std::unique_ptr<ParquetFile> file_;
  const std::vector<int> row_groups_;
  const std::shared_ptr<DecodedColumns> decoded_ = std::make_shared<DecodedColumns>();
  const std::string header_;
  int url_col_ = -1, md5_col_ = -1, sha256_col_ = -1, key_col_ = -1;
  Cursor url_, md5_, sha256_, key_;
  size_t next_group_ = 0;
  int64_t group_first_row_ = 0, group_rows_ = 0, next_row_ = 0;
  int64_t rows_done_ = 0, total_rows_ = 0;
};

class ParquetRecordWriter final : public RecordWriter {
 public:
  ParquetRecordWriter(std::string path, std::unique_ptr<ParquetFile> source,
                      std::unique_ptr<parquet::ParquetWriter> out, std::vector<int> row_groups,
                      std::shared_ptr<DecodedColumns> decoded)
      : path_(std::move(path)), source_(std::move(source)), out_(std::move(out)),
        row_groups_(std::move(row_groups)), decoded_(std::move(decoded)) {
    if (decoded_ != nullptr) decoded_->Attach();
  }

  absl::Status Write(const Record& record) override {
    const int64_t row = static_cast<int64_t>(record.row) - 1;
    // Finish every row group before the one this row is in.
    while (next_ < row_groups_.size() && row >= End(row_groups_[next_])) {
      OPTOUT_RETURN_IF_ERROR(Flush());
    }
    if (next_ >= row_groups_.size() || row < First(row_groups_[next_])) {
      return absl::InternalError(absl::StrCat("row ", record.row, " written out of order"));
    }
    keep_[row - First(row_groups_[next_])] = true;
    ++kept_;
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    while (next_ < row_groups_.size()) OPTOUT_RETURN_IF_ERROR(Flush());
    OPTOUT_RETURN_IF_ERROR(out_->Close());
    return SyncAndRename(path_ + ".partial", path_);
  }

  void Start() {
    if (next_ < row_groups_.size()) keep_.assign(Rows(row_groups_[next_]), false);
  }

 private:
  int64_t First(int g) const { return source_->metadata().row_groups[g].first_row; }
  int64_t Rows(int g) const { return source_->metadata().row_groups[g].num_rows; }
  int64_t End(int g) const { return First(g) + Rows(g); }

  // Column `c` of row group `g`, decoded: the reader's copy when it has
  // one, else read here.
  absl::StatusOr<SharedColumn> Column(int g, int c) {
    if (decoded_ != nullptr) {
      if (SharedColumn data = decoded_->Take(g, c)) return data;
    }
    OPTOUT_ASSIGN_OR_RETURN(ColumnData data, source_->ReadColumn(g, c));
    return std::make_shared<const ColumnData>(std::move(data));
  }

  // Column `c` of row group `g` in dictionary form, when it is dictionary-
  // encoded throughout and the reader has not decoded it already (a
  // checked column: its values are at hand); nullopt otherwise.
  absl::StatusOr<std::optional<parquet::DictionaryChunk>> DictionaryForm(int g, int c,
                                                                        bool dictionary) {
    if (!dictionary || (decoded_ != nullptr && decoded_->Has(g, c))) return std::nullopt;
    return source_->ReadDictionaryColumn(g, c);
  }

  // Writes the current row group's kept rows and moves to the next.
  absl::Status Flush() {
    const int g = row_groups_[next_];
    absl::Status s = FlushGroup(g);
    if (decoded_ != nullptr) decoded_->Done(g);
    OPTOUT_RETURN_IF_ERROR(s);
    ++next_;
    kept_ = 0;
    Start();
    return absl::OkStatus();
  }

  absl::Status FlushGroup(int g) {
    const int64_t rows = Rows(g);
    if (kept_ == rows) {
      // Copied as stored, but decoded first: a corrupt column that no check
      // reads must refuse the input, not pass into the release unseen (the
      // columns the reader decoded have been).
      // A dictionary-encoded column is checked in its dictionary form (every
      // page and index checked, no value looked up).
      for (size_t c = 0; c < source_->metadata().columns.size(); ++c) {
        OPTOUT_ASSIGN_OR_RETURN(std::optional<parquet::DictionaryChunk> stored,
                                DictionaryForm(g, static_cast<int>(c), UsesDictionary(g, c)));
        if (!stored.has_value()) OPTOUT_RETURN_IF_ERROR(Column(g, static_cast<int>(c)).status());
      }
      OPTOUT_RETURN_IF_ERROR(out_->CopyRowGroup(*source_, g));
    } else if (kept_ > 0) {
      const parquet::FileMetadata& meta = source_->metadata();
      std::vector<ColumnData> columns;
      std::vector<parquet::ColumnWriteOptions> options(meta.columns.size());
      // Kept dictionary pages, one per column that has its own (stable
      // addresses: options point at them).
      std::vector<parquet::StoredDictionary> dictionaries(meta.columns.size());
      const parquet::RowRuns runs = parquet::KeptRuns(keep_);
      for (size_t c = 0; c < meta.columns.size(); ++c) {
        const ColumnDescriptor& desc = meta.columns[c];
        // Same codec; dictionary pages where the source had them.
        options[c].codec = meta.row_groups[g].chunks[c].codec;
        options[c].dictionary = UsesDictionary(g, c);
        OPTOUT_ASSIGN_OR_RETURN(std::optional<parquet::DictionaryChunk> stored,
                                DictionaryForm(g, static_cast<int>(c), options[c].dictionary));
        if (stored.has_value()) {
          // Only the indices are filtered and written again: the dictionary
          // page is kept as stored, not rebuilt from every row's value.
          dictionaries[c] = std::move(stored->dictionary);
          options[c].stored_dictionary = &dictionaries[c];
          columns.push_back(
              parquet::FilterRows(stored->indices, desc.max_def, desc.max_rep, keep_, &runs));
          continue;
        }
        OPTOUT_ASSIGN_OR_RETURN(SharedColumn data, Column(g, static_cast<int>(c)));
        columns.push_back(parquet::FilterRows(*data, desc.max_def, desc.max_rep, keep_, &runs));
      }
      OPTOUT_RETURN_IF_ERROR(out_->WriteRowGroup(columns, options));
    }
    return absl::OkStatus();
  }

  // Whether the source's chunk of column `c` in row group `g` has a
  // dictionary page or says it uses dictionary encoding.
  bool UsesDictionary(int g, size_t c) const {
    const parquet::TValue* chunk = source_->metadata().tree.Field(parquet::fid::kFileRowGroups)
                                       ->items[g].Field(parquet::fid::kRowGroupColumns)->items[c]
                                       .Field(parquet::fid::kChunkMetaData);
    return chunk->Field(parquet::fid::kMetaDictionaryPageOffset) != nullptr ||
           UsesDictionaryEncoding(*chunk);
  }
  static bool UsesDictionaryEncoding(const parquet::TValue& meta) {
    const parquet::TValue* encodings = meta.Field(parquet::fid::kMetaEncodings);
    if (encodings == nullptr) return false;
    for (const parquet::TValue& e : encodings->items) {
      if (e.i == static_cast<int>(parquet::Encoding::kRleDictionary) ||
          e.i == static_cast<int>(parquet::Encoding::kPlainDictionary)) {
        return true;
      }
    }
    return false;
  }

  const std::string path_;
  const std::unique_ptr<ParquetFile> source_;
  const std::unique_ptr<parquet::ParquetWriter> out_;
  const std::vector<int> row_groups_;
  size_t next_ = 0;        // index into row_groups_ of the group being filled
  std::vector<bool> keep_;  // its rows
  int64_t kept_ = 0;
  const std::shared_ptr<DecodedColumns> decoded_;  // may be null
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecordReader>> OpenParquetReader(
    const std::string& path, const ReaderOptions& options,
    const std::optional<std::vector<int>>& row_groups) {
  OPTOUT_ASSIGN_OR_RETURN(auto file, ParquetFile::Open(path));
  std::vector<int> groups = row_groups.has_value() ? *row_groups : AllRowGroups(*file);
  auto reader = std::make_unique<ParquetReader>(std::move(file), std::move(groups));
  absl::Status s = reader->Init(options);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  return std::unique_ptr<RecordReader>(std::move(reader));
}

absl::StatusOr<std::unique_ptr<RecordWriter>> OpenParquetWriter(
    const std::string& path, const std::string& source,
    const std::optional<std::vector<int>>& row_groups, const RecordReader* reader) {
  OPTOUT_ASSIGN_OR_RETURN(auto file, ParquetFile::Open(source));
  std::vector<int> groups = row_groups.has_value() ? *row_groups : AllRowGroups(*file);
  OPTOUT_ASSIGN_OR_RETURN(auto out, parquet::ParquetWriter::Create(path + ".partial", file->metadata()));
  std::shared_ptr<DecodedColumns> decoded;
  if (const auto* parquet_reader = dynamic_cast<const ParquetReader*>(reader)) {
    decoded = parquet_reader->decoded();
  }
  auto writer = std::make_unique<ParquetRecordWriter>(path, std::move(file), std::move(out),
                                                      std::move(groups), std::move(decoded));
  writer->Start();
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

}  // namespace optout::dataset
