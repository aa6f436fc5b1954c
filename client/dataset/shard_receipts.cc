#include "client/dataset/shard_receipts.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace optout::dataset {
namespace {

using Json = nlohmann::json;

// I and N of "I/N"; false when it is not that.
bool ParseShard(const std::string& shard, int* index, int* count) {
  const std::vector<std::string> parts = absl::StrSplit(shard, '/');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], index) &&
         absl::SimpleAtoi(parts[1], count) && *count > 0 && *index >= 0 && *index < *count;
}

// What every shard of one release must have checked alike.
bool SameRelease(const ReceiptSection& a, const ReceiptSection& b) {
  return a.inputs == b.inputs && a.url_column == b.url_column &&
         a.min_pdq_quality == b.min_pdq_quality &&
         a.low_quality_pdq_floor == b.low_quality_pdq_floor &&
         a.pdq_region_tiers == b.pdq_region_tiers && a.psl_sha256 == b.psl_sha256;
}

}  // namespace

uint64_t RemovedRowsCovered(const Json& report, const std::vector<std::string>& not_covered) {
  uint64_t removed = 0;
  const Json inputs = report.value("inputs", Json::array());
  if (!inputs.is_array()) return 0;
  std::set<std::string> skipped;  // names of the inputs left out
  for (const Json& input : inputs) {
    if (!input.is_object()) continue;
    const Json path = input.value("input", Json());
    if (path.is_string() && std::find(not_covered.begin(), not_covered.end(),
                                      path.get<std::string>()) != not_covered.end()) {
      std::string name = input.value("output", "");
      while (name.size() > 1 && name.back() == '/') name.pop_back();
      skipped.insert(name.substr(name.rfind('/') + 1));
      continue;
    }
    const Json n = input.value("removed", Json());
    if (n.is_number_unsigned()) removed += n.get<uint64_t>();
  }
  // An img2dataset shard's key leaves its tar and its parquet together
  // (img2dataset.h), one match removing both: such a key counts once.
  std::set<std::pair<std::string, std::string>> tar_keys;  // FOLDER/STEM, key
  std::vector<std::pair<std::string, std::string>> parquet_keys;
  const Json lines = report.value("removed", Json::array());
  for (const Json& line : lines.is_array() ? lines : Json::array()) {
    if (!line.is_object() || !line.value("input", Json()).is_string() ||
        !line.value("key", Json()).is_string()) {
      continue;
    }
    const std::string file = line["input"].get<std::string>();
    if (skipped.count(file.substr(0, file.find('/'))) > 0) continue;
    const std::string key = line["key"].get<std::string>();
    if (absl::EndsWith(file, ".tar")) {
      tar_keys.emplace(file.substr(0, file.size() - 4), key);
    } else if (absl::EndsWith(file, ".parquet") && line.contains("row")) {
      parquet_keys.emplace_back(file.substr(0, file.size() - 8), key);
    }
  }
  for (const auto& pair : parquet_keys) {
    if (tar_keys.count(pair) > 0 && removed > 0) --removed;
  }
  return removed;
}

absl::StatusOr<Json> ShardReceiptEntry(const Json& shard_report) {
  absl::StatusOr<ReceiptSection> section = ParseReceiptSection(shard_report);
  if (!section.ok()) return section.status();
  Json entry;
  entry["shard"] = section->shard;
  entry["removed"] = RemovedRowsCovered(shard_report, section->not_covered);
  for (const char* key : {"receipt", "client_items_digest", "client_items", "receipt_inputs"}) {
    entry[key] = shard_report[key];
  }
  return entry;
}

absl::StatusOr<std::vector<ShardReceipt>> ParseShardReceipts(const Json& merged) {
  auto list = merged.find("receipts");
  if (list == merged.end()) {
    return absl::NotFoundError(
        "the merged report holds no receipts (its shards' runs had none, or merge-reports was "
        "older)");
  }
  if (!list->is_array()) return absl::InvalidArgumentError("report.json: receipts: not a list");
  const Json shards = merged.value("shards", Json());
  if (!shards.is_number_unsigned() || shards.get<uint64_t>() == 0 ||
      shards.get<uint64_t>() > 1'000'000) {
    return absl::InvalidArgumentError("report.json: shards: missing or not a shard count");
  }
  const int count = static_cast<int>(shards.get<uint64_t>());
  std::map<int, ShardReceipt> by_shard;
  std::map<std::string, int> sessions;  // session id -> shard
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& entry = (*list)[i];
    const std::string where = absl::StrCat("receipts[", i, "]");
    if (!entry.is_object()) return absl::InvalidArgumentError(absl::StrCat("report.json: ", where, ": not an object"));
    absl::StatusOr<ReceiptSection> section = ParseReceiptSection(entry);
    if (!section.ok()) {
      return absl::Status(section.status().code(),
                          absl::StrCat(where, ": ", section.status().message()));
    }
    ShardReceipt shard;
    int n = 0;
    if (!ParseShard(section->shard, &shard.index, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "report.json: ", where, ".receipt_inputs.shard: want I/N, got '", section->shard, "'"));
    }
    if (entry.value("shard", Json()) != Json(section->shard)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "report altered: ", where, ".shard is not its receipt_inputs.shard ", section->shard));
    }
    if (n != count) {
      return absl::FailedPreconditionError(absl::StrCat(
          "report altered: the receipt of shard ", section->shard, " is of a run in ", n,
          " shards, the merged report of ", count));
    }
    const Json removed = entry.value("removed", Json());
    if (!removed.is_number_unsigned()) {
      return absl::InvalidArgumentError(
          absl::StrCat("report.json: ", where, ".removed: missing or not a non-negative integer"));
    }
    shard.removed = removed.get<uint64_t>();
    if (by_shard.count(shard.index)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "report altered: shard ", section->shard, " has two receipts (a shard counted twice)"));
    }
    auto [seen, fresh] = sessions.emplace(section->receipt.session_id(), shard.index);
    if (!fresh) {
      return absl::FailedPreconditionError(absl::StrCat(
          "report altered: shards ", seen->second, " and ", shard.index, " carry one receipt (session ",
          section->receipt.session_id(), ")"));
    }
    if (!by_shard.empty() && !SameRelease(by_shard.begin()->second.section, *section)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the receipt of shard ", section->shard, " is over other inputs or options (inputs, URL "
          "column, PDQ quality floor, Public Suffix List) than shard ",
          by_shard.begin()->second.section.shard));
    }
    shard.section = *std::move(section);
    by_shard.emplace(shard.index, std::move(shard));
  }
  std::vector<ShardReceipt> out;
  for (int i = 0; i < count; ++i) {
    auto it = by_shard.find(i);
    if (it == by_shard.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "shard ", i, "/", count, " has no receipt: the receipts do not cover the whole release"));
    }
    out.push_back(std::move(it->second));
  }
  return out;
}

}  // namespace optout::dataset
