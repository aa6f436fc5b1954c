#include "client/dataset/merge_reports.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/dataset/shard_receipts.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

absl::StatusOr<Json> Load(const std::string& dir) {
  const std::string path = dir + "/report.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no report at ", path));
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a check-dataset report"));
  }
  return j;
}

// Adds the numbers of `from` into `into`, member by member (nested
// objects too); other members keep `into`'s value.
void AddCounts(const Json& from, Json* into) {
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (it->is_number_unsigned()) {
      (*into)[it.key()] = into->value(it.key(), uint64_t{0}) + it->get<uint64_t>();
    } else if (it->is_object() && into->contains(it.key())) {
      AddCounts(*it, &(*into)[it.key()]);
    }
  }
}

// Rows by input, then row number (or sample key).
bool RowBefore(const Json& a, const Json& b) {
  const std::string ia = a.value("input", ""), ib = b.value("input", "");
  if (ia != ib) return ia < ib;
  if (a.contains("row") && b.contains("row")) return a["row"].get<uint64_t>() < b["row"].get<uint64_t>();
  return a.value("key", "") < b.value("key", "");
}

}  // namespace

absl::StatusOr<MergedReport> MergeReports(const std::string& out, const std::vector<std::string>& dirs) {
  if (dirs.empty()) return absl::InvalidArgumentError("no report folders given");
  std::vector<Json> reports;
  int count = -1;
  std::map<int, std::string> seen;  // shard index -> folder
  std::map<int, size_t> report_of;  // shard index -> index in reports
  for (const std::string& dir : dirs) {
    auto report = Load(dir);
    if (!report.ok()) return report.status();
    const std::string shard = report->value("shard", "");
    const std::vector<std::string> parts = absl::StrSplit(shard, '/');
    int index = 0, n = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &index) || !absl::SimpleAtoi(parts[1], &n)) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, "/report.json is not from a --shard run"));
    }
    if (count >= 0 && n != count) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " holds shard ", shard, ", the others are of ", count));
    }
    count = n;
    if (!seen.emplace(index, dir).second) {
      return absl::FailedPreconditionError(absl::StrCat("shard ", shard, " is given twice: ", seen[index], " and ", dir));
    }
    for (const char* option :
         {"keep_unchecked", "min_pdq_quality", "low_quality_pdq_floor", "pdq_region_tiers"}) {
      if (!reports.empty() && reports[0].value(option, Json()) != report->value(option, Json())) {
        return absl::FailedPreconditionError(absl::StrCat(dir, " was checked with another ", option));
      }
    }
    report_of[index] = reports.size();
    reports.push_back(*std::move(report));
  }
  for (int i = 0; i < count; ++i) {
    if (!seen.count(i)) return absl::FailedPreconditionError(absl::StrCat("shard ", i, "/", count, " is missing"));
  }

  Json merged;
  merged["server"] = reports[0].value("server", "");
  merged["shards"] = count;
  merged["keep_unchecked"] = reports[0].value("keep_unchecked", false);
  merged["min_pdq_quality"] = reports[0].value("min_pdq_quality", Json());
  if (reports[0].contains("low_quality_pdq_floor")) {
    merged["low_quality_pdq_floor"] = reports[0]["low_quality_pdq_floor"];
  }
  if (reports[0].contains("pdq_region_tiers")) merged["pdq_region_tiers"] = reports[0]["pdq_region_tiers"];
  std::string started, finished;
  for (const Json& r : reports) {
    const std::string s = r.value("started", ""), f = r.value("finished", "");
    if (started.empty() || s < started) started = s;
    if (f > finished) finished = f;
  }
  merged["started"] = started;
  merged["finished"] = finished;

  // Inputs in the order shards list them; a Parquet file split over shards
  // appears once, its counts summed and its outputs listed.
  std::vector<std::string> order;
  std::map<std::string, Json> inputs;
  std::map<std::string, Json> refused;
  std::vector<std::string> refused_order;
  Json removed = Json::array(), unchecked = Json::array();
  for (const Json& r : reports) {
    for (const Json& input : r.value("inputs", Json::array())) {
      const std::string name = input.value("input", "");
      auto [it, added] = inputs.emplace(name, input);
      if (added) {
        order.push_back(name);
        it->second["outputs"] = Json::array({input.value("output", "")});
        it->second.erase("output");
        continue;
      }
      AddCounts(input, &it->second);
      it->second["seconds"] = it->second.value("seconds", 0.0) + input.value("seconds", 0.0);
      it->second["outputs"].push_back(input.value("output", ""));
    }
    for (const Json& ref : r.value("refused", Json::array())) {
      if (refused.emplace(ref.value("input", ""), ref).second) refused_order.push_back(ref.value("input", ""));
    }
    for (const Json& row : r.value("removed", Json::array())) removed.push_back(row);
    for (const Json& row : r.value("unchecked", Json::array())) unchecked.push_back(row);
  }
  Json per_input = Json::array(), totals = Json::object(), by_match = Json::object();
  uint64_t rows = 0, kept = 0, removed_n = 0, unchecked_n = 0, low = 0;
  for (const std::string& name : order) {
    const Json& input = inputs[name];
    rows += input.value("rows", uint64_t{0});
    kept += input.value("kept", uint64_t{0});
    removed_n += input.value("removed", uint64_t{0});
    unchecked_n += input.value("unchecked", uint64_t{0});
    low += input.value("images_checked_by_file_digest_only", uint64_t{0});
    if (by_match.empty()) {
      by_match = input.value("removed_by_match", Json::object());
    } else {
      AddCounts(input.value("removed_by_match", Json::object()), &by_match);
    }
    per_input.push_back(input);
  }
  totals["inputs"] = order.size() + refused.size();
  totals["refused"] = refused.size();
  totals["rows"] = rows;
  totals["kept"] = kept;
  totals["removed"] = removed_n;
  totals["unchecked"] = unchecked_n;
  totals["images_checked_by_file_digest_only"] = low;
  merged["totals"] = totals;
  merged["removed_by_match"] = by_match.empty() ? reports[0].value("removed_by_match", Json::object()) : by_match;
  merged["inputs"] = per_input;
  Json refused_json = Json::array();
  for (const std::string& name : refused_order) refused_json.push_back(refused[name]);
  merged["refused"] = refused_json;
  std::stable_sort(removed.begin(), removed.end(), RowBefore);
  std::stable_sort(unchecked.begin(), unchecked.end(), RowBefore);
  merged["removed"] = removed;
  merged["unchecked"] = unchecked;
  merged["merged_from"] = dirs;
  // Every shard's signed receipt, in shard order (shard_receipts.h).
  Json receipts = Json::array();
  for (const auto& [index, at] : report_of) {
    absl::StatusOr<Json> entry = ShardReceiptEntry(reports[at]);
    if (entry.ok()) {
      receipts.push_back(*std::move(entry));
    } else if (entry.status().code() != absl::StatusCode::kNotFound) {
      return absl::Status(entry.status().code(),
                          absl::StrCat(seen[index], ": ", entry.status().message()));
    }
  }
  if (!receipts.empty()) merged["receipts"] = receipts;

  std::string path = out;
  if (!absl::EndsWith(out, ".json")) {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", out, ": ", ec.message()));
    path = out + "/report.json";
  }
  {
    std::ofstream file(path + ".tmp", std::ios::trunc);
    file << merged.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", ec.message()));
  return MergedReport{path, count, rows, kept, removed_n, unchecked_n, refused.size(),
                      static_cast<int>(receipts.size())};
}

}  // namespace optout::dataset
