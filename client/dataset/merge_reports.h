// File: client/dataset/merge_reports.h
//
// `optout merge-reports OUT DIR...`: the report.json files of the N shards
// of one check-dataset run (--shard I/N, each in its own DIR) combined into
// one, as a single run over the whole release would have written it:
// totals and counts by match kind summed, each input's counts summed over
// the shards that checked part of it, refused inputs listed once, removed
// and unchecked rows in input and row order, and every shard's signed
// receipt under "receipts" (shard_receipts.h).
//
// Every shard 0..N-1 must be there exactly once, from runs with the same
// options (keep_unchecked, min_pdq_quality, low_quality_pdq_floor,
// pdq_region_tiers):
// FailedPrecondition otherwise, naming what is missing or differs. NotFound / InvalidArgument for a
// missing or unreadable report. Thread-compatible.
#ifndef OPTOUT_CLIENT_DATASET_MERGE_REPORTS_H_
#define OPTOUT_CLIENT_DATASET_MERGE_REPORTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace optout::dataset {

struct MergedReport {
  std::string path;  // where it was written
  int shards = 0;
  uint64_t rows = 0, kept = 0, removed = 0, unchecked = 0, refused = 0;
  int receipts = 0;  // shards whose signed receipt the report carries
};

// Reads DIR/report.json of each of `dirs`; writes the merged report to
// `out` (a file path ending in .json, else the folder OUT/report.json).
absl::StatusOr<MergedReport> MergeReports(const std::string& out, const std::vector<std::string>& dirs);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_MERGE_REPORTS_H_
