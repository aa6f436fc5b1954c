// Readers of tables: CSV, TSV, JSONL, URL lists.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/common/base/status_macros.h"
#include "client/common/base/with_field.h"
#include "client/dataset/compressed_io.h"
#include "client/dataset/csv.h"
#include "client/dataset/field_names.h"
#include "client/dataset/reader.h"
#include "client/dataset/sniff.h"
#include "client/common/digest/digest.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

constexpr size_t kBlockBytes = 1 << 20;
// A record longer than this is cut at its first line break and reported as
// malformed: one unbalanced quote must not swallow the rest of a file.
constexpr size_t kMaxRecordBytes = 8 << 20;

void SetDigest(absl::string_view column, absl::string_view hex, size_t bytes, std::string* out,
               Record* record) {
  hex = absl::StripAsciiWhitespace(hex);
  if (hex.empty()) return;
  auto parsed = digest::FromHex(hex, bytes);
  if (parsed.ok()) {
    *out = *std::move(parsed);
  } else if (record->unchecked.empty()) {
    record->unchecked = absl::StrCat("bad ", column, ": not ", bytes * 2, " hex digits");
  }
}

class TableReader final : public RecordReader {
 public:
  TableReader(std::unique_ptr<ByteReader> input, Format format, ReaderOptions options)
      : input_(std::move(input)), format_(format), options_(std::move(options)) {}

  absl::Status Init() {
    if (format_ != Format::kCsv && format_ != Format::kTsv) return absl::OkStatus();
    std::string raw;
    bool malformed = false;
    if (!NextRaw(&raw, &malformed)) {
      if (!io_error_.ok()) return io_error_;
      if (!text_error_.empty()) return absl::InvalidArgumentError(text_error_);
      return absl::InvalidArgumentError("empty table: no header row");
    }
    header_ = raw;
    std::vector<std::string> names;
    SplitCsvRecord(raw, delimiter(), &names);
    if (!names.empty() && absl::StartsWith(names[0], "\xEF\xBB\xBF")) names[0].erase(0, 3);
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(names[i]));
      if (name == "md5") md5_col_ = static_cast<int>(i);
      if (name == "sha256") sha256_col_ = static_cast<int>(i);
    }
    url_col_ = FindUrlName(names, options_.url_column);
    if (url_col_ < 0 && (!options_.url_column.empty() || (md5_col_ < 0 && sha256_col_ < 0))) {
      return absl::InvalidArgumentError(absl::StrCat(
          options_.url_column.empty() ? absl::StrCat("no URL column found (looked for ", UrlNameList(), ")")
                                      : absl::StrCat("no column named \"", options_.url_column, "\""),
          "; name it with --url-column (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    needed_fields_ = static_cast<size_t>(std::max({url_col_, md5_col_, sha256_col_})) + 1;
    return absl::OkStatus();
  }

  absl::Status Read(size_t max_records, std::vector<Record>* out) override {
    for (size_t n = 0; n < max_records; ++n) {
      Record record;
      bool malformed = false;
      if (!NextRaw(&record.raw, &malformed)) break;
      if (IsBlank(record.raw)) {
        record.passthrough = true;
      } else {
        record.row = ++rows_;
        Parse(malformed, &record);
      }
      out->push_back(std::move(record));
    }
    if (!io_error_.ok()) return io_error_;
    // The whole input is refused, not read half: rows before the bad byte
    // were fine, but the file is not the text it claims to be.
    if (!text_error_.empty()) return absl::InvalidArgumentError(text_error_);
    return absl::OkStatus();
  }

  int64_t bytes_read() const override { return consumed_; }
  const std::string& header() const override { return header_; }
  int items_per_record() const override { return 3; }
  bool has_images() const override { return false; }

 private:
  char delimiter() const { return format_ == Format::kTsv ? '\t' : ','; }

  static bool IsBlank(absl::string_view raw) {
    return absl::StripAsciiWhitespace(raw).empty();
  }

  // Cuts the next record (with its line break) off the buffered input.
  bool NextRaw(std::string* raw, bool* malformed) {
    for (;;) {
      const absl::string_view data = absl::string_view(buffer_).substr(pos_);
      size_t len = 0;
      bool unterminated = false;
      if (format_ == Format::kCsv || format_ == Format::kTsv) {
        len = CsvRecordLength(data, delimiter(), eof_, &unterminated);
      } else {
        const size_t nl = data.find('\n');
        len = nl != absl::string_view::npos ? nl + 1 : (eof_ ? data.size() : 0);
      }
      if (len == 0 && !eof_ && data.size() >= kMaxRecordBytes) {
        const size_t nl = data.find('\n');
        len = nl != absl::string_view::npos ? nl + 1 : data.size();
        unterminated = true;
      }
      if (len > 0 || (eof_ && data.empty())) {
        if (len == 0 || !text_error_.empty()) return false;
        raw->assign(data.data(), len);
        *malformed = unterminated;
        pos_ += len;
        consumed_ = input_->file_bytes_read();
        return true;
      }
      Refill();
      if (!text_error_.empty() || !io_error_.ok()) return false;
    }
  }

  void Refill() {
    buffer_.erase(0, pos_);
    pos_ = 0;
    const size_t old = buffer_.size();
    buffer_.resize(old + kBlockBytes);
    auto read = input_->Read(buffer_.data() + old, kBlockBytes);
    const size_t n = read.ok() ? *read : 0;
    buffer_.resize(old + n);
    if (!read.ok()) {
      io_error_ = read.status();
      eof_ = true;
      return;
    }
    if (n == 0) eof_ = true;
    const bool valid = n > 0 ? utf8_.Feed(absl::string_view(buffer_).substr(old)) : utf8_.Finish();
    if (!valid) text_error_ = utf8_.error();
  }

  void Parse(bool malformed, Record* r) {
    absl::string_view line = r->raw;
    switch (format_) {
      case Format::kCsv:
      case Format::kTsv: {
        if (!SplitCsvRecord(line, delimiter(), &fields_, needed_fields_) || malformed) {
          r->unchecked = "malformed row (unbalanced quotes)";
          return;
        }
        if (url_col_ >= 0) {
          if (static_cast<size_t>(url_col_) >= fields_.size()) {
            r->unchecked = "row has no URL column";
          } else {
            r->url = std::string(absl::StripAsciiWhitespace(fields_[url_col_]));
            r->has_url = true;
          }
        }
        if (md5_col_ >= 0 && static_cast<size_t>(md5_col_) < fields_.size()) {
          SetDigest("md5", fields_[md5_col_], 16, &r->md5, r);
        }
        if (sha256_col_ >= 0 && static_cast<size_t>(sha256_col_) < fields_.size()) {
          SetDigest("sha256", fields_[sha256_col_], 32, &r->sha256, r);
        }
        return;
      }
      case Format::kJsonl:
        return ParseJson(line, r);
      default:
        r->url = std::string(absl::StripAsciiWhitespace(line));
        r->has_url = true;
        return;
    }
  }

  void ParseJson(absl::string_view line, Record* r) {
    auto json = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      r->unchecked = "broken JSON line";
      return;
    }
    auto text = [&](const char* key, std::string* value) {
      auto it = FindKeyIgnoringCase(json, key);
      if (it == json.end() || !it->is_string()) return false;
      *value = it->get<std::string>();
      return true;
    };
    std::string value;
    if (auto url = FindUrlKey(json, options_.url_column); url != json.end()) {
      if (url->is_string()) {
        r->url = url->get<std::string>();
        r->has_url = true;
      } else if (!url->is_null()) {
        r->unchecked = absl::StrCat("\"", url.key(), "\" is not a string");
      }
    }
    if (text("md5", &value)) SetDigest("md5", value, 16, &r->md5, r);
    if (text("sha256", &value)) SetDigest("sha256", value, 32, &r->sha256, r);
    if (!r->has_url && r->md5.empty() && r->sha256.empty() && r->unchecked.empty()) {
      r->unchecked = "no URL field";
    }
  }

  const std::unique_ptr<ByteReader> input_;
  absl::Status io_error_;  // a read or decompression error ends the input
  const Format format_;
  const ReaderOptions options_;
  std::string header_;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  int64_t consumed_ = 0;
  uint64_t rows_ = 0;
  int url_col_ = -1, md5_col_ = -1, sha256_col_ = -1;
  size_t needed_fields_ = 0;  // fields parsed per row: up to the last column used
  std::vector<std::string> fields_;
  Utf8Validator utf8_;
  std::string text_error_;  // why the input is not text; empty while it is
};

}  // namespace

const char* FormatName(Format format) {
  switch (format) {
    case Format::kCsv: return "csv";
    case Format::kTsv: return "tsv";
    case Format::kJsonl: return "jsonl";
    case Format::kUrlList: return "urls";
    case Format::kWebdataset: return "webdataset";
    case Format::kImageFolder: return "folder";
    case Format::kParquet: return "parquet";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenTableReader(const std::string& path,
                                                              Format format,
                                                              const ReaderOptions& options,
                                                              Compression compression) {
  OPTOUT_ASSIGN_OR_RETURN(auto input, OpenByteReader(path, compression));
  auto reader = std::make_unique<TableReader>(std::move(input), format, options);
  OPTOUT_RETURN_IF_ERROR(WithField(path, reader->Init()));
  return std::unique_ptr<RecordReader>(std::move(reader));
}

}  // namespace optout::dataset
