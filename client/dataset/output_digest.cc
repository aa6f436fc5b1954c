#include "client/dataset/output_digest.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/dataset_checker.h"

namespace optout::dataset {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

absl::Status Altered(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("removed rows list altered: ", what));
}

// The file name a path ends in ("a/b/" -> "b").
std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return fs::path(path).filename().string();
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
  r.pdq_low_quality = record.pdq_low_quality;
  r.pdq_region_low = record.pdq_region_low;
  ChunkPlan plan;
  BuildRequest(one, &plan);
  if (plan.request.packed_size() == 0) return "";
  return absl::Base64Escape(plan.request.SerializeAsString());
}

PutBack::PutBack(std::string name, bool samples, std::vector<Row> rows,
                 std::vector<std::pair<uint64_t, uint64_t>> ranges)
    : name_(std::move(name)), samples_(samples), rows_(std::move(rows)), ranges_(std::move(ranges)) {
  // Skip empty ranges; the first row is the first range's.
  while (range_ < ranges_.size() && ranges_[range_].second == 0) ++range_;
  if (range_ < ranges_.size()) at_ = ranges_[range_].first;
}

void PutBack::Advance() {
  ++rows_seen_;
  ++at_;
  if (range_ >= ranges_.size()) return;
  if (at_ < ranges_[range_].first + ranges_[range_].second) return;
  // Past this row group: on to the shard's next one.
  do {
    ++range_;
  } while (range_ < ranges_.size() && ranges_[range_].second == 0);
  if (range_ < ranges_.size()) at_ = ranges_[range_].first;
}

void PutBack::FeedDue(receipt::ItemsDigest* digest) {
  while (due()) {
    if (rows_[next_].has_items) digest->Add(rows_[next_].items);
    ++next_;
    Advance();
  }
}

absl::Status PutBack::Finish(receipt::ItemsDigest* digest) {
  FeedDue(digest);
  if (next_ == rows_.size()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "removed rows list or output altered: ", samples_ ? "sample " : "row ", rows_[next_].at,
      " of ", name_, " lies past its end",
      ranges_.empty() ? "" : " or outside the row groups of its shard", " (", rows_seen_,
      samples_ ? " samples" : " rows", " with the output)"));
}

absl::StatusOr<std::unique_ptr<DroppedRows>> DroppedRows::FromReport(const Json& report) {
  auto dropped = std::make_unique<DroppedRows>();
  std::map<std::string, std::map<uint64_t, PutBack::Row>> by_file;
  for (const char* list : {"removed", "unchecked"}) {
    const Json lines = report.value(list, Json::array());
    if (!lines.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("report.json: ", list, ": not a list"));
    }
    const bool removed = std::string(list) == "removed";
    for (const Json& line : lines) {
      if (!line.is_object() || !line.value("input", Json()).is_string()) continue;
      // Unchecked rows kept are in the output itself.
      if (!removed && line.value("kept", false)) continue;
      const std::string name = line["input"].get<std::string>();
      // Samples are numbered by "sample"; table rows by "row" (a parquet
      // row of an img2dataset shard has a "key" too).
      const bool sample = line.contains("sample") || (line.contains("key") && !line.contains("row"));
      const Json at = line.value(sample ? "sample" : "row", Json());
      if (!at.is_number_unsigned() || at.get<uint64_t>() == 0) {
        if (sample) {
          return absl::FailedPreconditionError(absl::StrCat(
              "a ", list, " sample of ", name,
              " has no sample number (a report from before --from-output read image outputs); "
              "verify from the inputs"));
        }
        return Altered(absl::StrCat("a ", list, " row of ", name, " has no row number"));
      }
      PutBack::Row row;
      row.at = at.get<uint64_t>();
      const Json items = line.value("items", Json());
      if (items.is_string()) {
        std::string bytes;
        if (!absl::Base64Unescape(items.get<std::string>(), &bytes) ||
            !row.items.ParseFromString(bytes)) {
          return Altered(absl::StrCat("row ", row.at, " of ", name, ": items are not a check request"));
        }
        row.has_items = true;
      } else if (removed) {
        // A matched row brought items; a report without them is older or cut.
        return absl::FailedPreconditionError(absl::StrCat(
            "removed ", sample ? "sample " : "row ", row.at, " of ", name,
            " lists no items (a report from before --from-output); verify from the inputs"));
      }
      const uint64_t at_copy = row.at;
      if (sample) dropped->samples_.insert(name);
      if (!by_file[name].emplace(at_copy, std::move(row)).second) {
        return Altered(absl::StrCat(sample ? "sample " : "row ", at_copy, " of ", name,
                                    " is listed twice"));
      }
    }
  }
  for (auto& [name, rows] : by_file) {
    std::vector<PutBack::Row>& out = dropped->rows_[name];
    for (auto& [at, row] : rows) out.push_back(std::move(row));
  }
  // Parquet files split by --shard: the rows of the whole file the shard read.
  for (const Json& input : report.value("inputs", Json::array())) {
    if (!input.is_object() || !input.contains("row_ranges")) continue;
    const std::string name = BaseName(input.value("output", ""));
    std::vector<std::pair<uint64_t, uint64_t>>& ranges = dropped->ranges_[name];
    for (const Json& range : input["row_ranges"]) {
      if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
          !range[1].is_number_unsigned() || range[0].get<uint64_t>() == 0) {
        return Altered(absl::StrCat("row_ranges of ", name, " are not [first row, rows] pairs"));
      }
      ranges.emplace_back(range[0].get<uint64_t>(), range[1].get<uint64_t>());
    }
  }
  return dropped;
}

PutBack* DroppedRows::For(const std::string& name) {
  std::unique_ptr<PutBack>& put_back = opened_[name];
  if (put_back == nullptr) {
    auto rows = rows_.find(name);
    auto ranges = ranges_.find(name);
    put_back = std::make_unique<PutBack>(
        name, samples_.count(name) > 0, rows == rows_.end() ? std::vector<PutBack::Row>() : std::move(rows->second),
        ranges == ranges_.end() ? std::vector<std::pair<uint64_t, uint64_t>>()
                                : ranges->second);
  }
  return put_back.get();
}

absl::Status DroppedRows::CheckAllRead(
    const std::function<bool(const std::string&)>& skipped) const {
  for (const auto& [name, rows] : rows_) {
    if (rows.empty() || opened_.count(name) > 0 || skipped(name)) continue;
    return Altered(absl::StrCat("it lists rows of ", name, ", and the run wrote no output of that name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<receipt::Digest32> DigestFilteredOutputs(const Json& report,
                                                        const std::string& report_dir,
                                                        const ReceiptSection& s,
                                                        const url::PublicSuffixList& psl,
                                                        client::RegistryClient& client, int jobs) {
  const Json inputs = report.value("inputs", Json::array());
  if (!inputs.is_array()) return absl::InvalidArgumentError("report.json: inputs: not a list");
  OPTOUT_ASSIGN_OR_RETURN(std::unique_ptr<DroppedRows> dropped, DroppedRows::FromReport(report));
  // The outputs, in run order; refused inputs have none (and are not
  // listed in `inputs`), inputs an earlier run finished are not covered.
  std::vector<std::string> outputs, skipped;
  std::map<std::string, std::pair<std::string, Json>> expected;  // name: input, its rows
  for (const Json& input : inputs) {
    if (!input.is_object()) return absl::InvalidArgumentError("report.json: inputs: not objects");
    const std::string source = input.value("input", "");
    std::string output = input.value("output", "");
    const std::string name = BaseName(output);
    if (std::find(s.not_covered.begin(), s.not_covered.end(), source) != s.not_covered.end()) {
      skipped.push_back(name);
      continue;
    }
    std::error_code ec;
    if (output.empty() || !fs::exists(output, ec)) output = report_dir + "/" + name;
    if (name.empty() || !fs::exists(output, ec)) {
      return absl::NotFoundError(absl::StrCat("the filtered output of ", source, " (", name,
                                              ") is not next to the report"));
    }
    outputs.push_back(output);
    expected[name] = {source, input.value("rows", Json())};
  }
  char tmpl[] = "/tmp/optout-verify-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return absl::UnavailableError("cannot create a temp folder");
  const std::string temp = tmpl;
  receipt::ItemsDigest digest(s.min_pdq_quality);
  v1::GetInfoResponse info;
  info.set_min_pdq_quality(s.min_pdq_quality);
  info.set_low_quality_pdq_floor(s.low_quality_pdq_floor);
  info.set_pdq_region_tiers(s.pdq_region_tiers);
  DatasetOptions d;
  d.inputs = outputs;
  d.out_dir = temp + "/out";
  d.url_column = s.url_column;
  d.quiet = true;
  d.jobs = jobs;
  d.receipt = false;
  d.digest_only = &digest;
  d.info = &info;
  d.psl = &psl;
  d.put_back = dropped.get();
  absl::StatusOr<DatasetResult> result = CheckDataset(d, client);
  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!result.ok()) return result.status();
  for (const RefusedInput& refused : result->refused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the filtered output ", refused.input, " cannot be read (output altered?): ",
        refused.reason));
  }
  for (const InputSummary& summary : result->inputs) {
    const auto& [source, rows] = expected[summary.name];
    if (!rows.is_number_unsigned() || rows.get<uint64_t>() != summary.rows) {
      return absl::FailedPreconditionError(absl::StrCat(
          source, " had ", rows.dump(), " rows; its output ", summary.name,
          " with the dropped rows put back has ", summary.rows,
          " (removed rows list or output altered)"));
    }
  }
  OPTOUT_RETURN_IF_ERROR(dropped->CheckAllRead([&](const std::string& name) {
    for (const std::string& skip : skipped) {
      if (name == skip || absl::StartsWith(name, skip + "/")) return true;
    }
    return false;
  }));
  return receipt::CombineParts({{0, digest.Finish()}});
}

}  // namespace optout::dataset
