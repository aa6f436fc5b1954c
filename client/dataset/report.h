// File: client/dataset/report.h
//
// The report of a dataset check and the state that lets a re-run resume.
// Under <out>/.optout-state/ each input NAME gets, while it is checked,
// NAME.removed.jsonl / NAME.unchecked.jsonl (one JSON object per line, so the
// lists never sit in memory) and, once its filtered output is committed,
// NAME.done.json with its totals. A re-run skips inputs whose done file
// matches the input's size, mtime and the check options. report.json is
// assembled from these files at the end, streaming.
//
// Thread-compatible.
#ifndef OPTOUT_CLIENT_DATASET_REPORT_H_
#define OPTOUT_CLIENT_DATASET_REPORT_H_

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/common/protocol/match_kind.h"
#include "client/common/protocol/pdq_quality.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/receipt_section.h"
#include "client/dataset/record.h"

namespace optout::dataset {

struct InputSummary {
  std::string input;   // as given on the command line
  std::string name;    // its base name, unique within a run
  std::string format;  // FormatName()
  std::string output;  // the filtered copy
  std::string fingerprint;
  uint64_t rows = 0, kept = 0, removed = 0, unchecked = 0, low_quality = 0;
  std::array<uint64_t, protocol::kMatchKindCount> removed_by_kind{};  // indexed by v1::MatchKind
  double seconds = 0;
  bool resumed = false;  // finished by an earlier run
  // A Parquet file split by --shard: the rows of the whole file this shard
  // read (each row group's first row, 1-based, and row count), in order, so
  // that its filtered output's rows can be numbered as in the file
  // (verify-receipt --from-output). Empty otherwise.
  std::vector<std::pair<uint64_t, uint64_t>> row_ranges;
};

// An input refused as a whole (not the format it claims, or one not read):
// nothing is written for it.
struct RefusedInput {
  std::string input;   // as given on the command line
  std::string reason;  // one line, e.g. "zip archive: not supported; unpack it first"
};

// Collects one input's removed and unchecked lists on disk.
class InputLog final {
 public:
  static absl::StatusOr<std::unique_ptr<InputLog>> Open(const std::string& state_dir,
                                                        const std::string& name);
  ~InputLog();
  InputLog(const InputLog&) = delete;
  InputLog& operator=(const InputLog&) = delete;

  // The "input" of the lines that follow: a file inside a folder input is
  // named "FOLDER/PATH". Default: the input's name.
  void SetInput(std::string shown) { shown_ = std::move(shown); }
  const std::string& shown() const { return shown_; }
  // `items`: what the row brought to a receipt's check (output_digest.h),
  // listed so that the receipt can be verified from the filtered output;
  // empty: none listed.
  absl::Status AddRemoved(const Record& record, const Verdict& verdict,
                          const std::string& items = "");
  absl::Status AddUnchecked(const Record& record, bool kept, const std::string& items = "");

  // A point to return to when a file inside a folder is refused halfway:
  // its lines are dropped again.
  struct Mark {
    long removed = 0, unchecked = 0;
  };
  absl::StatusOr<Mark> MarkHere();
  absl::Status Rollback(const Mark& mark);

  // Moves the lists into place and writes NAME.done.json last.
  absl::Status Commit(const InputSummary& summary);
  // Closes and deletes the lists (the input was refused).
  void Discard();

 private:
  InputLog(std::string state_dir, std::string name, std::FILE* removed, std::FILE* unchecked);
  absl::Status Line(std::FILE* file, const std::string& line);

  const std::string state_dir_, name_;
  std::string shown_;
  std::FILE* removed_;
  std::FILE* unchecked_;
};

// The summary of a finished input whose fingerprint matches, else nullopt.
std::optional<InputSummary> LoadDone(const std::string& state_dir, const std::string& name,
                                     const std::string& fingerprint);

struct RunInfo {
  std::string server;
  std::string shard;  // "I/N" when only shard I of N was checked; else empty
  std::string started, finished;  // RFC 3339
  bool keep_unchecked = false;
  int min_pdq_quality = protocol::kDefaultMinPdqQuality;
  // The registry's low-quality PDQ floor when it has that tier (below
  // min_pdq_quality); 0 without. Written only when set.
  int low_quality_pdq_floor = 0;
  // The server matched each region in its own tier (GetInfoResponse.
  // pdq_region_tiers; PrepareRecord sent their tiers). Written only when set.
  bool pdq_region_tiers = false;
  std::optional<ReceiptSection> receipt;  // the run's signed receipt, if any
};

// Writes <out>/report.json (via a temp file and rename): run info, totals,
// counts by match kind, per-input totals, the refused inputs, and every
// removed and unchecked row from the state files.
absl::Status WriteReport(const std::string& out_dir, const std::string& state_dir,
                         const RunInfo& run, const std::vector<InputSummary>& inputs,
                         const std::vector<RefusedInput>& refused = {});

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_REPORT_H_
