#include "client/dataset/img2dataset.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/dataset/writer.h"
#include "client/parquet/parquet_file.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

// "a/00001.tar" -> "a/00001".
std::string Stem(const std::string& rel, size_t suffix) { return rel.substr(0, rel.size() - suffix); }

// Rows of a parquet by their status, and failed rows by error message.
struct StatusCounts {
  int64_t rows = 0;
  std::map<std::string, int64_t> status;
  std::map<std::string, int64_t> messages;
};

absl::StatusOr<StatusCounts> CountStatuses(const std::string& path) {
  OPTOUT_ASSIGN_OR_RETURN(auto file, parquet::ParquetFile::Open(path));
  const parquet::FileMetadata& meta = file->metadata();
  int status_col = -1, message_col = -1;
  for (size_t i = 0; i < meta.columns.size(); ++i) {
    const parquet::ColumnDescriptor& c = meta.columns[i];
    if (!c.flat || c.type != parquet::PhysicalType::kByteArray) continue;
    if (c.name == "status") status_col = static_cast<int>(i);
    if (c.name == "error_message") message_col = static_cast<int>(i);
  }
  StatusCounts counts;
  // One string per row (empty for null) of a flat column.
  auto rows_of = [&](int group, int col, std::vector<std::string>* out) -> absl::Status {
    out->clear();
    if (col < 0) return absl::OkStatus();
    OPTOUT_ASSIGN_OR_RETURN(parquet::ColumnData data, file->ReadColumn(group, col));
    const bool optional = meta.columns[col].max_def > 0;
    size_t next = 0;
    for (size_t row = 0; row < data.num_levels; ++row) {
      if (optional && data.def[row] == 0) {
        out->emplace_back();
      } else {
        out->emplace_back(data.Value(next++));
      }
    }
    return absl::OkStatus();
  };
  std::vector<std::string> status, message;
  for (size_t g = 0; g < meta.row_groups.size(); ++g) {
    counts.rows += meta.row_groups[g].num_rows;
    OPTOUT_RETURN_IF_ERROR(rows_of(static_cast<int>(g), status_col, &status));
    OPTOUT_RETURN_IF_ERROR(rows_of(static_cast<int>(g), message_col, &message));
    for (size_t row = 0; row < status.size(); ++row) {
      ++counts.status[status[row]];
      // img2dataset counts "success" and each failure's message.
      if (status[row] == "success") {
        ++counts.messages["success"];
      } else if (row < message.size() && !message[row].empty()) {
        ++counts.messages[message[row]];
      }
    }
  }
  return counts;
}

// Lowers the integer `json[name]` by `by` (never below 0), if it is one.
void Lower(nlohmann::json& json, const std::string& name, int64_t by) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_number_integer() || by == 0) return;
  *it = std::max<int64_t>(0, it->get<int64_t>() - by);
}

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return ss.str();
}

}  // namespace

std::vector<Img2datasetShard> TakeImg2datasetShards(FolderPlan* plan) {
  std::vector<Img2datasetShard> shards;
  std::vector<std::string> lone_tars;
  for (const std::string& tar : plan->shards) {
    if (!absl::EndsWith(tar, ".tar")) {
      lone_tars.push_back(tar);
      continue;
    }
    const std::string stem = Stem(tar, 4);
    const std::string parquet = stem + ".parquet";
    auto table = std::find(plan->tables.begin(), plan->tables.end(), parquet);
    if (table == plan->tables.end()) {
      lone_tars.push_back(tar);
      continue;
    }
    plan->tables.erase(table);
    Img2datasetShard shard{tar, parquet, ""};
    const std::string stats = stem + "_stats.json";
    auto sample = std::find_if(plan->samples.begin(), plan->samples.end(),
                               [&](const FolderFile& f) { return f.name == stats && f.unchecked.empty(); });
    if (sample != plan->samples.end()) {
      plan->samples.erase(sample);
      shard.stats = stats;
    }
    shards.push_back(std::move(shard));
  }
  plan->shards = std::move(lone_tars);
  return shards;
}

void ShardLink::ApplyPartner(Record* record, Verdict* verdict) const {
  if (partner_ == nullptr || verdict->kind != v1::MATCH_KIND_NONE) return;
  const std::string& key = KeyOf(*record);
  if (key.empty()) return;
  auto it = partner_->find(key);
  if (it == partner_->end()) return;
  if (it->second.verdict.kind != v1::MATCH_KIND_NONE) {
    *verdict = it->second.verdict;
    return;
  }
  if (record->unchecked.empty()) {
    record->unchecked = absl::StrCat("not kept in ", partner_name_, ": ", it->second.unchecked);
  }
  record->incomplete = true;
}

void ShardLink::Note(const Record& record, const Verdict& verdict, bool written) {
  const std::string& key = KeyOf(record);
  if (key.empty()) return;
  if (written) {
    written_.insert(key);
  } else {
    dropped_.try_emplace(key, KeyFate{verdict, record.unchecked});
  }
}

absl::Status WriteFilteredStats(const std::string& source_stats, const std::string& source_parquet,
                                const std::string& filtered_parquet, const std::string& target) {
  OPTOUT_ASSIGN_OR_RETURN(const std::string text, ReadWhole(source_stats));
  nlohmann::json stats = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::string out = text;
  if (stats.is_object()) {
    OPTOUT_ASSIGN_OR_RETURN(const StatusCounts before, CountStatuses(source_parquet));
    OPTOUT_ASSIGN_OR_RETURN(const StatusCounts after, CountStatuses(filtered_parquet));
    auto gone = [](const std::map<std::string, int64_t>& a, const std::map<std::string, int64_t>& b,
                   const std::string& name) {
      auto x = a.find(name);
      auto y = b.find(name);
      return (x == a.end() ? 0 : x->second) - (y == b.end() ? 0 : y->second);
    };
    Lower(stats, "count", before.rows - after.rows);
    Lower(stats, "successes", gone(before.status, after.status, "success"));
    Lower(stats, "failed_to_download", gone(before.status, after.status, "failed_to_download"));
    Lower(stats, "failed_to_resize", gone(before.status, after.status, "failed_to_resize"));
    auto dict = stats.find("status_dict");
    if (dict != stats.end() && dict->is_object()) {
      for (const auto& [message, n] : before.messages) {
        const int64_t by = gone(before.messages, after.messages, message);
        if (by == 0 || !dict->contains(message)) continue;
        Lower(*dict, message, by);
        if ((*dict)[message] == 0) dict->erase(message);
      }
    }
    out = stats.dump(4);
  }
  const std::string partial = target + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file << out;
    if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", partial));
  }
  return SyncAndRename(partial, target);
}

}  // namespace optout::dataset
