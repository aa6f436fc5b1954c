// File: client/dataset/output_digest.h
//
// A signed receipt checked from the filtered release instead of the
// original (issue 14): the rows a check-dataset run dropped (removed, or
// unchecked and not kept) are listed in report.json with the items they
// brought to the check ("items": base64 of a CheckRequest holding only
// them) and their place: "row" for a table row (numbered in the whole
// file), "sample" for a sample of a shard or folder (1, 2, ... in reading
// order). The filtered output read as the run read its input, with those
// rows put back in their places, then gives the same items in the same
// order as the inputs did. Any edit to the removed rows list (a row
// hidden, added, moved, or its items changed) or to the output changes the
// recomputed digest.
//
// Every output check-dataset writes is read so: tables (CSV, TSV, JSONL,
// URL lists, each also .gz / .zst), Parquet files (also those split by
// --shard: the report's "row_ranges" number their rows as in the whole
// file), webdataset tars, image folders (the image files are hashed again)
// and img2dataset shard folders (tar, then parquet, as the run read them).
// What no output holds: an input refused part-way (rows it sent before the
// refusal are in the receipt, and nothing of it is written), and inputs an
// earlier run finished (outside the receipt); verify those from the inputs.
#ifndef OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_
#define OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/common/receipt/items_digest.h"
#include "client/common/url/public_suffix_list.h"
#include "client/dataset/receipt_section.h"
#include "client/dataset/record.h"
#include "client/registry_client.h"
#include "nlohmann/json.hpp"
#include "optout/v1/optout.pb.h"

namespace optout::dataset {

// The items a prepared record brings to the check, as the "items" of its
// line in the removed or unchecked list; empty when it brings none.
std::string DroppedRowItems(const Record& record);

// The dropped rows of one file of a run, put back among the rows of its
// filtered output while they are read. Positions count the file's rows
// (or samples) as the run read them. Thread-compatible.
class PutBack final {
 public:
  struct Row {
    uint64_t at = 0;  // "row" or "sample"
    v1::CheckRequest items;
    bool has_items = false;
  };
  // `rows` sorted by position; `samples`: they are samples (else rows);
  // `ranges` the positions the file's rows take (first, count), in order;
  // empty: 1, 2, ...
  PutBack(std::string name, bool samples, std::vector<Row> rows,
          std::vector<std::pair<uint64_t, uint64_t>> ranges);

  // A dropped row is due before the next output row.
  bool due() const { return next_ < rows_.size() && rows_[next_].at == at_; }
  // Feeds the dropped rows due now to `digest`, in order.
  void FeedDue(receipt::ItemsDigest* digest);
  // One output row was read.
  void Advance();
  // After the last output row: feeds what is due; FailedPrecondition
  // ("removed rows list or output altered") when a listed row is left
  // (past the end, or outside the shard's row groups).
  absl::Status Finish(receipt::ItemsDigest* digest);
  // Rows so far, output and put back.
  uint64_t rows() const { return rows_seen_; }

 private:
  const std::string name_;
  const bool samples_;
  const std::vector<Row> rows_;
  const std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  size_t next_ = 0;
  size_t range_ = 0;
  uint64_t at_ = 1;
  uint64_t rows_seen_ = 0;
};

// The dropped rows of a report, by the name its lines give a file ("input":
// an input's name, or FOLDER/PATH inside a folder). Thread-compatible.
class DroppedRows final {
 public:
  // FailedPrecondition ("removed rows list altered: ...") for a row listed
  // twice, without its place, or a removed row without its items;
  // InvalidArgument for a report that is not one.
  static absl::StatusOr<std::unique_ptr<DroppedRows>> FromReport(const nlohmann::json& report);

  // The put-back of file `name` (one with nothing dropped has an empty one).
  // Owned here.
  PutBack* For(const std::string& name);
  // FailedPrecondition naming a file whose listed rows were never put back
  // (no output of that name was read), unless `skipped(name)`.
  absl::Status CheckAllRead(const std::function<bool(const std::string&)>& skipped) const;

 private:
  std::map<std::string, std::vector<PutBack::Row>> rows_;
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> ranges_;
  std::map<std::string, std::unique_ptr<PutBack>> opened_;
  std::set<std::string> samples_;  // files whose lines number samples
};

// The items digest of what the run behind `report` (its receipt section
// `section`, the report in folder `report_dir`) sent, rebuilt from the
// filtered outputs and the dropped rows' items, with `psl` and the
// receipt's PDQ floors; `client` is not called. FailedPrecondition naming
// the file and row when the lists do not fit the outputs (a row listed
// twice, past the end, or without its items), or when the row counts
// differ from the report's; NotFound for a missing output.
absl::StatusOr<receipt::Digest32> DigestFilteredOutputs(const nlohmann::json& report,
                                                        const std::string& report_dir,
                                                        const ReceiptSection& section,
                                                        const url::PublicSuffixList& psl,
                                                        client::RegistryClient& client,
                                                        int jobs = 0);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_OUTPUT_DIGEST_H_
