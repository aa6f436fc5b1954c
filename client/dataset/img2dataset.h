// File: client/dataset/img2dataset.h
//
// img2dataset shard folders: per shard NNNNN.tar (the samples: NNNNN.jpg,
// .json, .txt members), NNNNN.parquet (one row per URL tried, with a `key`
// column naming the sample, downloaded or not) and NNNNN_stats.json
// (counts). check-dataset checks the tar and the parquet of a shard as one
// unit so that the filtered shard stays consistent: a key dropped from one
// (matched, or not checkable and not kept) is dropped from the other too,
// and _stats.json is updated by what left the parquet.
//
// Thread-compatible.
#ifndef OPTOUT_CLIENT_DATASET_IMG2DATASET_H_
#define OPTOUT_CLIENT_DATASET_IMG2DATASET_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "client/dataset/chunk_check.h"
#include "client/dataset/folder_plan.h"
#include "client/dataset/record.h"

namespace optout::dataset {

// The name of the Parquet column tying a row to its sample.
inline constexpr char kImg2datasetKeyColumn[] = "key";

// One shard: paths relative to the folder; `stats` may be empty.
struct Img2datasetShard {
  std::string tar, parquet, stats;
};

// Moves every X.tar that has an X.parquet beside it (and its X_stats.json,
// when there is one) out of `plan` into the returned list, in tar order.
std::vector<Img2datasetShard> TakeImg2datasetShards(FolderPlan* plan);

// Why a key left one file of a shard: matched (verdict.kind set) or not
// checkable and not kept (unchecked says why).
struct KeyFate {
  Verdict verdict;
  std::string unchecked;
};
using KeyFates = absl::flat_hash_map<std::string, KeyFate>;

// Ties the check of one file of a shard to the other's. The tar goes
// first (no partner), then the parquet (partner: what left the tar).
class ShardLink final {
 public:
  // `partner_name` names the partner in unchecked reasons.
  ShardLink(const KeyFates* partner, std::string partner_name, bool by_pair_key)
      : partner_(partner), partner_name_(std::move(partner_name)), by_pair_key_(by_pair_key) {}

  // A record whose key left the partner leaves too, for the same reason;
  // an unchecked one is never written (incomplete is set).
  void ApplyPartner(Record* record, Verdict* verdict) const;
  // Records what became of a record of this file.
  void Note(const Record& record, const Verdict& verdict, bool written);

  const KeyFates& dropped() const { return dropped_; }
  const absl::flat_hash_set<std::string>& written() const { return written_; }

 private:
  const std::string& KeyOf(const Record& r) const { return by_pair_key_ ? r.pair_key : r.key; }

  const KeyFates* const partner_;
  const std::string partner_name_;
  const bool by_pair_key_;
  KeyFates dropped_;
  absl::flat_hash_set<std::string> written_;
};

// Writes `target`: the shard's `source_stats` JSON with its counts
// ("count", "successes", "failed_to_download", "failed_to_resize",
// "status_dict") lowered by the rows `source_parquet` has and
// `filtered_parquet` has not (by their `status` and `error_message`
// columns); any other field is kept. A stats file that is not a JSON
// object is copied unchanged. Unavailable for I/O, DataLoss for a
// corrupt parquet.
absl::Status WriteFilteredStats(const std::string& source_stats, const std::string& source_parquet,
                                const std::string& filtered_parquet, const std::string& target);

}  // namespace optout::dataset

#endif  // OPTOUT_CLIENT_DATASET_IMG2DATASET_H_
