#include "client/dataset/report.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/common/base/status_macros.h"
#include "client/common/protocol/match_kind.h"
#include "nlohmann/json.hpp"

namespace optout::dataset {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  // Keys and URLs in datasets need not be UTF-8; replace rather than throw.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Rows of tables are numbered; samples are named by key, and numbered in
// reading order ("sample": 1, 2, ... in the shard or folder), so that
// verify-receipt --from-output puts a dropped one back in its place.
void Locate(const Record& r, Json* line) {
  if (r.key.empty()) {
    (*line)["row"] = r.row;
    // A row of an img2dataset shard's parquet: also its sample's key.
    if (!r.pair_key.empty()) (*line)["key"] = r.pair_key;
  } else {
    (*line)["key"] = r.key;
    if (r.row > 0) (*line)["sample"] = r.row;
  }
}

Json SummaryJson(const InputSummary& s) {
  Json j;
  j["input"] = s.input;
  j["format"] = s.format;
  j["output"] = s.output;
  j["rows"] = s.rows;
  j["kept"] = s.kept;
  j["removed"] = s.removed;
  j["unchecked"] = s.unchecked;
  j["images_checked_by_file_digest_only"] = s.low_quality;
  Json by_kind;
  for (int k = 1; k < protocol::kMatchKindCount; ++k) {
    by_kind[protocol::MatchKindName(k)] = s.removed_by_kind[k];
  }
  j["removed_by_match"] = by_kind;
  j["seconds"] = s.seconds;
  j["resumed"] = s.resumed;
  if (!s.row_ranges.empty()) {
    Json ranges = Json::array();
    for (const auto& [first, count] : s.row_ranges) ranges.push_back({first, count});
    j["row_ranges"] = ranges;
  }
  return j;
}

std::string Path(const std::string& dir, const std::string& name, const char* suffix) {
  return absl::StrCat(dir, "/", name, suffix);
}

// Copies the lines of `path` as elements of a JSON array being written.
absl::Status AppendLines(const std::string& path, std::ostream& out, bool* first) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("missing state file ", path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out << (*first ? "\n    " : ",\n    ") << line;
    *first = false;
  }
  return absl::OkStatus();
}

}  // namespace

InputLog::InputLog(std::string state_dir, std::string name, std::FILE* removed,
                   std::FILE* unchecked)
    : state_dir_(std::move(state_dir)), name_(std::move(name)), shown_(name_), removed_(removed),
      unchecked_(unchecked) {}

InputLog::~InputLog() {
  if (removed_ != nullptr) std::fclose(removed_);
  if (unchecked_ != nullptr) std::fclose(unchecked_);
}

absl::StatusOr<std::unique_ptr<InputLog>> InputLog::Open(const std::string& state_dir,
                                                         const std::string& name) {
  ::unlink(Path(state_dir, name, ".done.json").c_str());
  const std::string removed = Path(state_dir, name, ".removed.jsonl.partial");
  const std::string unchecked = Path(state_dir, name, ".unchecked.jsonl.partial");
  std::FILE* r = std::fopen(removed.c_str(), "wb");
  if (r == nullptr) return IoError("cannot create", removed);
  std::FILE* u = std::fopen(unchecked.c_str(), "wb");
  if (u == nullptr) {
    std::fclose(r);
    return IoError("cannot create", unchecked);
  }
  return std::unique_ptr<InputLog>(new InputLog(state_dir, name, r, u));
}

absl::Status InputLog::Line(std::FILE* file, const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), file) != line.size() || std::fputc('\n', file) == EOF) {
    return IoError("cannot write state of", name_);
  }
  return absl::OkStatus();
}

absl::Status InputLog::AddRemoved(const Record& record, const Verdict& verdict,
                                  const std::string& items) {
  Json line;
  line["input"] = shown_;
  Locate(record, &line);
  line["match"] = protocol::MatchKindName(verdict.kind);
  line["ids"] = verdict.ids;
  if (!items.empty()) line["items"] = items;
  return Line(removed_, Dump(line));
}

absl::Status InputLog::AddUnchecked(const Record& record, bool kept, const std::string& items) {
  Json line;
  line["input"] = shown_;
  Locate(record, &line);
  line["reason"] = record.unchecked;
  line["kept"] = kept;
  if (!items.empty()) line["items"] = items;
  return Line(unchecked_, Dump(line));
}

absl::StatusOr<InputLog::Mark> InputLog::MarkHere() {
  Mark mark;
  mark.removed = std::ftell(removed_);
  mark.unchecked = std::ftell(unchecked_);
  if (mark.removed < 0 || mark.unchecked < 0) return IoError("cannot write state of", name_);
  return mark;
}

absl::Status InputLog::Rollback(const Mark& mark) {
  for (auto [file, pos] : {std::pair{removed_, mark.removed}, std::pair{unchecked_, mark.unchecked}}) {
    if (std::fflush(file) != 0 || ::ftruncate(fileno(file), pos) != 0 ||
        std::fseek(file, pos, SEEK_SET) != 0) {
      return IoError("cannot write state of", name_);
    }
  }
  return absl::OkStatus();
}

void InputLog::Discard() {
  for (std::FILE** f : {&removed_, &unchecked_}) {
    if (*f != nullptr) std::fclose(*f);
    *f = nullptr;
  }
  for (const char* list : {".removed.jsonl", ".unchecked.jsonl"}) {
    ::unlink(Path(state_dir_, name_, absl::StrCat(list, ".partial").c_str()).c_str());
    ::unlink(Path(state_dir_, name_, list).c_str());
  }
}

absl::Status InputLog::Commit(const InputSummary& summary) {
  for (std::FILE** f : {&removed_, &unchecked_}) {
    const bool ok = std::fflush(*f) == 0 && ::fsync(fileno(*f)) == 0;
    std::fclose(*f);
    *f = nullptr;
    if (!ok) return IoError("cannot write state of", name_);
  }
  for (const char* list : {".removed.jsonl", ".unchecked.jsonl"}) {
    const std::string to = Path(state_dir_, name_, list);
    if (::rename((to + ".partial").c_str(), to.c_str()) != 0) return IoError("cannot rename", to);
  }
  Json done = SummaryJson(summary);
  done["fingerprint"] = summary.fingerprint;
  const std::string path = Path(state_dir_, name_, ".done.json");
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << Dump(done) << "\n";
    out.flush();
    if (!out) return IoError("cannot write", path + ".tmp");
  }
  if (::rename((path + ".tmp").c_str(), path.c_str()) != 0) return IoError("cannot rename", path);
  return absl::OkStatus();
}

std::optional<InputSummary> LoadDone(const std::string& state_dir, const std::string& name,
                                     const std::string& fingerprint) {
  std::ifstream in(Path(state_dir, name, ".done.json"));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || j.value("fingerprint", "") != fingerprint) {
    return std::nullopt;
  }
  InputSummary s;
  s.name = name;
  s.fingerprint = fingerprint;
  s.format = j.value("format", "");
  s.output = j.value("output", "");
  s.rows = j.value("rows", uint64_t{0});
  s.kept = j.value("kept", uint64_t{0});
  s.removed = j.value("removed", uint64_t{0});
  s.unchecked = j.value("unchecked", uint64_t{0});
  s.low_quality = j.value("images_checked_by_file_digest_only", uint64_t{0});
  s.seconds = j.value("seconds", 0.0);
  if (j.contains("removed_by_match") && j["removed_by_match"].is_object()) {
    for (int k = 1; k < protocol::kMatchKindCount; ++k) {
      s.removed_by_kind[k] = j["removed_by_match"].value(protocol::MatchKindName(k), uint64_t{0});
    }
  }
  for (const Json& range : j.value("row_ranges", Json::array())) {
    if (range.is_array() && range.size() == 2 && range[0].is_number_unsigned() &&
        range[1].is_number_unsigned()) {
      s.row_ranges.emplace_back(range[0].get<uint64_t>(), range[1].get<uint64_t>());
    }
  }
  s.resumed = true;
  return s;
}

absl::Status WriteReport(const std::string& out_dir, const std::string& state_dir,
                         const RunInfo& run, const std::vector<InputSummary>& inputs,
                         const std::vector<RefusedInput>& refused) {
  InputSummary total;
  Json per_input = Json::array();
  for (const InputSummary& s : inputs) {
    total.rows += s.rows;
    total.kept += s.kept;
    total.removed += s.removed;
    total.unchecked += s.unchecked;
    total.low_quality += s.low_quality;
    for (int k = 0; k < protocol::kMatchKindCount; ++k) {
      total.removed_by_kind[k] += s.removed_by_kind[k];
    }
    per_input.push_back(SummaryJson(s));
  }
  Json head;
  head["server"] = run.server;
  head["started"] = run.started;
  head["finished"] = run.finished;
  head["keep_unchecked"] = run.keep_unchecked;
  head["min_pdq_quality"] = run.min_pdq_quality;
  if (run.low_quality_pdq_floor > 0) head["low_quality_pdq_floor"] = run.low_quality_pdq_floor;
  if (run.pdq_region_tiers) head["pdq_region_tiers"] = true;
  if (!run.shard.empty()) head["shard"] = run.shard;
  Json totals;
  totals["inputs"] = inputs.size() + refused.size();
  totals["refused"] = refused.size();
  totals["rows"] = total.rows;
  totals["kept"] = total.kept;
  totals["removed"] = total.removed;
  totals["unchecked"] = total.unchecked;
  totals["images_checked_by_file_digest_only"] = total.low_quality;
  head["totals"] = totals;
  Json by_kind;
  for (int k = 1; k < protocol::kMatchKindCount; ++k) {
    by_kind[protocol::MatchKindName(k)] = total.removed_by_kind[k];
  }
  head["removed_by_match"] = by_kind;
  head["inputs"] = per_input;
  Json refused_json = Json::array();
  for (const RefusedInput& r : refused) refused_json.push_back({{"input", r.input}, {"reason", r.reason}});
  head["refused"] = refused_json;
  if (run.receipt.has_value()) AddReceiptSection(*run.receipt, &head);

  const std::string path = out_dir + "/report.json";
  std::ofstream out(path + ".tmp", std::ios::trunc);
  std::string text = head.dump(2, ' ', false, Json::error_handler_t::replace);
  text.pop_back();  // the closing brace: the two lists follow, streamed
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  out << text;
  for (const char* list : {"removed", "unchecked"}) {
    out << ",\n  \"" << list << "\": [";
    bool first = true;
    for (const InputSummary& s : inputs) {
      OPTOUT_RETURN_IF_ERROR(AppendLines(
          Path(state_dir, s.name, absl::StrCat(".", list, ".jsonl").c_str()), out, &first));
    }
    out << (first ? "]" : "\n  ]");
  }
  out << "\n}\n";
  out.flush();
  if (!out) return IoError("cannot write", path + ".tmp");
  out.close();
  if (::rename((path + ".tmp").c_str(), path.c_str()) != 0) return IoError("cannot rename", path);
  return absl::OkStatus();
}

}  // namespace optout::dataset
