#include "client/dataset/output_digest.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/reader.h"
#include "client/dataset/url_digests.h"

namespace optout::dataset {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kChunkRows = 4096;

// A row the run dropped: its row number and the items it brought.
struct Dropped {
  uint64_t row = 0;
  v1::CheckRequest items;
  bool has_items = false;
  bool removed = false;  // matched (else: unchecked, not kept)
};

absl::Status Altered(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("removed rows list altered: ", what));
}

// The dropped rows of input `name`, by row number.
absl::StatusOr<std::vector<Dropped>> DroppedRows(const Json& report, const std::string& name) {
  std::map<uint64_t, Dropped> rows;
  for (const char* list : {"removed", "unchecked"}) {
    const Json lines = report.value(list, Json::array());
    if (!lines.is_array()) return absl::InvalidArgumentError(absl::StrCat("report.json: ", list, ": not a list"));
    for (const Json& line : lines) {
      if (!line.is_object() || line.value("input", Json()) != Json(name)) continue;
      // Unchecked rows kept are in the output itself.
      if (std::string(list) == "unchecked" && line.value("kept", false)) continue;
      const Json row = line.value("row", Json());
      if (!row.is_number_unsigned() || row.get<uint64_t>() == 0) {
        return Altered(absl::StrCat("a ", list, " row of ", name, " has no row number"));
      }
      Dropped d;
      d.row = row.get<uint64_t>();
      d.removed = std::string(list) == "removed";
      const Json items = line.value("items", Json());
      if (items.is_string()) {
        std::string bytes;
        if (!absl::Base64Unescape(items.get<std::string>(), &bytes) || !d.items.ParseFromString(bytes)) {
          return Altered(absl::StrCat("row ", d.row, " of ", name, ": items are not a check request"));
        }
        d.has_items = true;
      } else if (d.removed) {
        // A matched row brought items; a report without them is older or cut.
        return absl::FailedPreconditionError(absl::StrCat(
            "removed row ", d.row, " of ", name,
            " lists no items (a report from before --from-output); verify from the inputs"));
      }
      if (!rows.emplace(d.row, std::move(d)).second) {
        return Altered(absl::StrCat("row ", row.get<uint64_t>(), " of ", name, " is listed twice"));
      }
    }
  }
  std::vector<Dropped> out;
  for (auto& [row, d] : rows) out.push_back(std::move(d));
  return out;
}

absl::StatusOr<std::unique_ptr<RecordReader>> OpenOutput(const std::string& path,
                                                         const std::string& format,
                                                         const ReaderOptions& options) {
  if (format == "parquet") return OpenParquetReader(path, options);
  Compression compression = Compression::kNone;
  if (absl::EndsWith(path, ".gz")) compression = Compression::kGzip;
  if (absl::EndsWith(path, ".zst")) compression = Compression::kZstd;
  Format f;
  if (format == "csv") {
    f = Format::kCsv;
  } else if (format == "tsv") {
    f = Format::kTsv;
  } else if (format == "jsonl") {
    f = Format::kJsonl;
  } else if (format == "urls") {
    f = Format::kUrlList;
  } else {
    return absl::UnimplementedError(absl::StrCat(
        path, " is a ", format,
        " output: verify-receipt --from-output rebuilds tables and whole Parquet files only "
        "(images were checked by the PDQ and digests of their bytes, so rebuilding would hash "
        "every kept image again in the run's order); verify it from the inputs (without "
        "--from-output)"));
  }
  return OpenTableReader(path, f, options, compression);
}

// Feeds one input's output, with its dropped rows put back, to `digest`.
absl::Status DigestOutput(const Json& input, const Json& report, const std::string& report_dir,
                          const ReceiptSection& s, UrlDigester& digester,
                          const protocol::PdqQualityFloors& floors,
                          receipt::ItemsDigest* digest) {
  const std::string source = input.value("input", "");
  const std::string format = input.value("format", "");
  std::string output = input.value("output", "");
  const std::string name = fs::path(output).filename().string();
  if (format == "parquet" && !s.shard.empty()) {
    return absl::UnimplementedError(absl::StrCat(
        source, ": a Parquet file split by --shard holds only its shard's row groups, and its "
        "removed rows are numbered in the whole file, so they cannot be put back in place; "
        "verify it from the inputs (without --from-output)"));
  }
  std::error_code ec;
  if (!fs::exists(output, ec)) output = report_dir + "/" + name;
  if (!fs::exists(output, ec)) {
    return absl::NotFoundError(absl::StrCat("the filtered output of ", source, " (", name,
                                            ") is not next to the report"));
  }
  OPTOUT_ASSIGN_OR_RETURN(std::vector<Dropped> dropped, DroppedRows(report, name));
  OPTOUT_ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader,
                          OpenOutput(output, format, ReaderOptions{s.url_column}));
  size_t next_dropped = 0;
  uint64_t row = 1;  // the input's row number of the next row
  std::vector<Record> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    for (Record& r : pending) PrepareRecord(digester, floors, &r);
    ChunkPlan plan;
    BuildRequest(pending, &plan);
    digest->Add(plan.request);
    pending.clear();
  };
  // Dropped rows due before input row `row`.
  auto put_back = [&] {
    while (next_dropped < dropped.size() && dropped[next_dropped].row == row) {
      flush();
      if (dropped[next_dropped].has_items) digest->Add(dropped[next_dropped].items);
      ++next_dropped;
      ++row;
    }
  };
  std::vector<Record> records;
  for (;;) {
    records.clear();
    OPTOUT_RETURN_IF_ERROR(reader->Read(kChunkRows, &records));
    if (records.empty()) break;
    for (Record& r : records) {
      if (r.passthrough) continue;
      put_back();
      pending.push_back(std::move(r));
      ++row;
      if (pending.size() >= kChunkRows) flush();
    }
  }
  put_back();
  flush();
  if (next_dropped < dropped.size()) {
    return Altered(absl::StrCat("row ", dropped[next_dropped].row, " of ", name,
                                " lies past its end (", row - 1, " rows with the output)"));
  }
  const Json rows = input.value("rows", Json());
  if (!rows.is_number_unsigned() || rows.get<uint64_t>() != row - 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        source, " had ", rows.dump(), " rows; its output ", name,
        " with the dropped rows put back has ", row - 1, " (removed rows list or output altered)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DroppedRowItems(const Record& record) {
  std::vector<Record> one(1);
  Record& r = one[0];
  // Only what BuildRequest reads.
  r.url_digests = record.url_digests;
  r.url_count = record.url_count;
  r.sha256 = record.sha256;
  r.md5 = record.md5;
  r.pdq = record.pdq;
  r.pdq_regions = record.pdq_regions;
  ChunkPlan plan;
  BuildRequest(one, &plan);
  if (plan.request.packed_size() == 0) return "";
  return absl::Base64Escape(plan.request.SerializeAsString());
}

absl::StatusOr<receipt::Digest32> DigestFilteredOutputs(const Json& report,
                                                        const std::string& report_dir,
                                                        const ReceiptSection& s,
                                                        const url::PublicSuffixList& psl,
                                                        const protocol::PdqQualityFloors& floors) {
  const Json inputs = report.value("inputs", Json::array());
  if (!inputs.is_array()) return absl::InvalidArgumentError("report.json: inputs: not a list");
  UrlDigester digester(psl);
  receipt::ItemsDigest digest(s.min_pdq_quality);
  // In run order; refused inputs have no output (and are not listed here).
  for (const Json& input : inputs) {
    if (!input.is_object()) return absl::InvalidArgumentError("report.json: inputs: not objects");
    const Json path = input.value("input", Json());
    if (path.is_string() && std::find(s.not_covered.begin(), s.not_covered.end(),
                                      path.get<std::string>()) != s.not_covered.end()) {
      continue;
    }
    OPTOUT_RETURN_IF_ERROR(
        DigestOutput(input, report, report_dir, s, digester, floors, &digest));
  }
  return receipt::CombineParts({{0, digest.Finish()}});
}

}  // namespace optout::dataset
